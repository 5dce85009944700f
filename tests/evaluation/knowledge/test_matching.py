"""Span matching and abstention detection for knowledge probes: every rule on positive and negative cases."""

from __future__ import annotations

import unicodedata

import pytest

from domainft.errors import ConfigError
from domainft.evaluation.knowledge.matching import (
    DEFAULT_ABSTENTION_PATTERNS,
    SpanMatch,
    detect_kind,
    is_abstention,
    known_span_kinds,
    match_span,
    normalise_text,
    register_span_matcher,
)

# ------------------------------------------------------------------------------------ normalise_text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hồ Chí Minh", "ho chi minh"),
        ("  KIM   LIÊN\n", "kim lien"),
        ("Đà Nẵng", "da nang"),
        ("Søren Łukasz Æsir Straße", "soren lukasz aesir strasse"),
        ("Città, perché?", "citta perche"),
        ("6.5 h, then 1,200 rpm.", "6.5 h then 1,200 rpm"),
        ("WO-2022-0001 (open)", "wo 2022 0001 open"),
        ("ﬁlter Ｈ２Ｏ", "filter h2o"),  # NFKC: ligature and full-width letters
        ("end. 3.", "end 3"),
        ("a_b", "a b"),
        ("", ""),
    ],
)
def test_normalise_text(text, expected):
    assert normalise_text(text) == expected


def test_normalise_text_keeps_accents_when_asked_and_composes_decomposed_input():
    assert normalise_text("Huế", strip_accents=False) == "huế"
    decomposed = unicodedata.normalize("NFD", "Huế")
    assert normalise_text(decomposed, strip_accents=False) == "huế"
    assert normalise_text(decomposed) == "hue"
    with pytest.raises(TypeError, match="expects a str"):
        normalise_text(None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------ detect_kind


@pytest.mark.parametrize(
    ("key", "kind"),
    [
        ("19 May 1890", "date"),
        ("19th May 1890", "date"),
        ("May 19, 1890", "date"),
        ("1890-05-19", "date"),
        ("19/05/1890", "date"),
        ("May 1890", "date"),
        ("Sept 2021", "date"),
        ("1890", "date"),
        ("2022-03-03", "date"),
        ("6.5 hours", "number"),
        ("6.5 h", "number"),
        ("22 l/min", "number"),
        ("1,200 rpm", "number"),
        ("1 200 rpm", "number"),
        ("0.05 mm", "number"),
        ("90 °C", "number"),
        ("45%", "number"),
        ("2.25", "number"),
        ("10", "number"),
        ("-20 °C", "number"),
        ("2 h 15 min", "number"),
        ("ten years", "number"),
        ("999", "number"),  # not a year: below 1000
        ("2500", "number"),  # not a year: above 2100
        ("Check ring wear", "string"),
        ("WO-2022-0001", "string"),
        ("Nguyễn Sinh Cung", "string"),
        ("6205-2RS", "string"),
        ("3 widgets", "string"),  # an unknown unit
        ("10 years old", "string"),
        ("May", "string"),
        ("1890s", "string"),
        ("31 February 2022", "string"),  # an impossible date is no date
        ("1200.5", "number"),
        ("one", "string"),
        ("16:30", "string"),
        ("M8", "string"),
    ],
)
def test_detect_kind(key, kind):
    assert detect_kind(key) == kind


# ----------------------------------------------------------------------------------------------- string


@pytest.mark.parametrize(
    ("answer", "key", "found"),
    [
        ("He was born in Kim Liên.", "Kim Liên", "Kim Liên"),
        ("He was born in kim lien.", "Kim Liên", "kim lien"),
        ("HE WAS BORN IN KIM LIÊN", "Kim Liên", "KIM LIÊN"),
        ("Born in Huế.", "Hue", "Huế"),
        ("Press the reset button.", "press", "Press"),
        ("First, check ring wear; then refit.", "Check ring wear", "check ring wear"),
        ("See WO-2022-0001.", "WO-2022-0001", "WO-2022-0001"),
        ("See WO 2022 0001.", "WO-2022-0001", "WO 2022 0001"),
        ("Fit a 6205-2RS bearing", "6205-2RS", "6205-2RS"),
        ("Nguyễn Sinh Cung, later Hồ Chí Minh", "nguyen sinh cung", "Nguyễn Sinh Cung"),
        ("Use the Ø12 gasket", "ø12", "Ø12"),
        ("Ask the Straße office", "strasse", "Straße"),
        ("Line one.\nLine two: Kim\n Liên", "Kim Liên", "Kim\n Liên"),
    ],
)
def test_string_matches_and_returns_the_original_piece(answer, key, found):
    result = match_span(answer, key, "string")
    assert result == SpanMatch(True, "string", found, key)


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ("The pressure is too high.", "press"),
        ("Kim is here; Liên is there.", "Kim Liên"),
        ("Check the ring for wear.", "Check ring wear"),
        ("See WO-2022-00011.", "WO-2022-0001"),
        ("Fit a 6205-2RSH bearing", "6205-2RS"),
        ("", "press"),
    ],
)
def test_string_does_not_match(answer, key):
    result = match_span(answer, key, "string")
    assert not result.matched
    assert result.found is None
    assert result.key == key


def test_string_keeps_accents_when_asked():
    assert not match_span("Born in Huế.", "Hue", strip_accents=False).matched
    assert match_span("BORN IN HUẾ.", "Huế", strip_accents=False).found == "HUẾ"
    assert match_span("Born in Huế.", "Hue").matched


def test_string_found_maps_back_through_decomposed_text():
    answer = unicodedata.normalize("NFD", "Sinh ở Kim Liên, Nghệ An.")
    found = match_span(answer, "Nghệ An").found
    assert found == unicodedata.normalize("NFD", "Nghệ An")
    assert found in answer


def test_punctuation_only_key_is_matched_literally():
    assert match_span("Answer: ??", "??", "string").found == "??"
    assert not match_span("Answer: !", "??", "string").matched


# ----------------------------------------------------------------------------------------------- number


@pytest.mark.parametrize(
    ("answer", "key", "found"),
    [
        ("It takes 6.5 hours.", "6.5 hours", "6.5 hours"),
        ("It takes 6.5 h.", "6.5 hours", "6.5 h"),
        ("It takes 6.5h.", "6.5 hours", "6.5h"),
        ("It takes 6.5 hrs in total.", "6.5 hours", "6.5 hrs"),
        ("Ci vogliono 6,5 ore.", "6.5 hours", "6,5 ore"),
        ("Plan for 135 minutes.", "2.25 hours", "135 minutes"),
        ("Plan for 2.25 h.", "2.25 hours", "2.25 h"),
        ("Plan for 2 h 15 min.", "2.25 hours", "2 h 15 min"),
        ("Plan for 2 hours and 15 minutes.", "2.25 hours", "2 hours and 15 minutes"),
        ("Allow two and a half hours.", "2.5 h", "two and a half hours"),
        ("Allow 8100 s.", "2.25 hours", "8100 s"),
        ("A 1.5-day job", "36 hours", "1.5-day"),
        ("Every 2 weeks", "14 days", "2 weeks"),
        ("after 18 months", "1.5 years", "18 months"),
        ("after 1 year and 6 months", "18 months", "1 year and 6 months"),
        ("a 1 m 20 cm hose", "1.2 m", "1 m 20 cm"),
        ("flow of 22 l/min", "22 l/min", "22 l/min"),
        ("flow of 22 L/min", "22 l/min", "22 L/min"),
        ("flow of 22 litres per minute", "22 l/min", "22 litres per minute"),
        ("flow of 1320 l/h", "22 l/min", "1320 l/h"),
        ("runs at 1,200 rpm", "1,200 rpm", "1,200 rpm"),
        ("runs at 1 200 RPM", "1,200 rpm", "1 200 RPM"),
        ("runs at 1200 revolutions per minute", "1 200 rpm", "1200 revolutions per minute"),
        ("a gap of 3 mm", "3 mm", "3 mm"),
        ("a gap of 0.3 cm", "3 mm", "0.3 cm"),
        ("a gap of 3 millimetres", "3 mm", "3 millimetres"),
        ("runout under 0.05 mm", "0.05 mm", "0.05 mm"),
        ("runout under 50 µm", "0.05 mm", "50 µm"),
        ("a 1.5 m hose", "150 cm", "1.5 m"),
        ("a 2 kg part", "2000 g", "2 kg"),
        ("heat to 90 °C", "90 °C", "90 °C"),
        ("heat to 90°C", "90 °C", "90°C"),
        ("heat to 90 degrees C", "90 °C", "90 degrees C"),
        ("heat to 90 degrees Celsius", "90 °C", "90 degrees Celsius"),
        ("heat to 90 deg C", "90 °C", "90 deg C"),
        ("keep it at -20 °C", "-20 °C", "-20 °C"),
        ("about 45%", "45%", "45%"),
        ("about 45 percent", "45%", "45 percent"),
        ("about 45 per cent", "45%", "45 per cent"),
        ("torque to 45 N·m", "45 Nm", "45 N·m"),
        ("a 7.5 kW motor", "7500 W", "7.5 kW"),
        ("set 6 bar", "6 bar", "6 bar"),
        ("about ten years old", "10 years", "ten years"),
        ("a 10-year warranty", "10 years", "10-year"),
        ("twenty-five mm", "25 mm", "twenty-five mm"),
        ("one hour", "60 min", "one hour"),
        ("a hundred years later", "100 years", "a hundred years"),
        ("a dozen bolts", "12", "a dozen"),
        ("ratio 2.25 overall", "2.25", "2.25"),
        ("ratio 2,25 overall", "2.25", "2,25"),
        ("it lasted ten", "10", "ten"),
        ("2.25 hours", "2.25", "2.25 hours"),  # a unitless key matches whatever follows
        ("costs 1,200.50 in total", "1200.5", "1,200.50"),
        ("costs 1.200,50 in total", "1200.5", "1.200,50"),
    ],
)
def test_number_matches(answer, key, found):
    result = match_span(answer, key)
    assert result == SpanMatch(True, "number", found, key)


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ("It takes 6.5 mm.", "6.5 hours"),
        ("It takes 65 hours.", "6.5 hours"),
        ("It takes 16.5 hours.", "6.5 hours"),
        ("It takes 6.55 hours.", "6.5 hours"),
        ("It takes 6.5.", "6.5 hours"),  # the right number without its unit
        ("It takes 6.5 of them.", "6.5 hours"),
        ("It takes 6-7 hours.", "7 hours"),  # a range does not state the value
        ("Plan for 2 h 15 min.", "2 hours"),  # the parts of a compound do not count alone
        ("Plan for 2 h 15 min.", "15 min"),
        ("Installed in 2016.", "16"),
        ("A 16.5 mm gap.", "16"),
        ("Torque 10-16 Nm.", "16 Nm"),
        ("Ticket WO-16 is open.", "16"),
        ("At 16:30 the pump stopped.", "16"),
        ("Fit a 16RS seal.", "16"),
        ("Order WO-2022-0001.", "1"),
        ("Version 6.5.3 fixes it.", "6.5"),
        ("See page 1/2.", "1"),
        ("One of them failed.", "1"),  # the word "one" without a unit
        ("heat to 90 degrees", "90 °C"),  # documented: a bare "degrees" is not °C
        ("heat to 194 °F", "90 °C"),  # no temperature conversion
        ("keep it at -20 °C", "20 °C"),
        ("keep it at 20 °C", "-20 °C"),
        ("runs at 1,200 rpm", "1.2 rpm"),
        ("runs at 1,200 rpm", "1200 l/min"),
        ("about 45", "45%"),
        ("set 6 psi", "6 bar"),
        ("a 5 mm/rev feed", "5 mm"),
        ("a 5 m2 area", "5 m"),
        ("nothing here", "2.25"),
    ],
)
def test_number_does_not_match(answer, key):
    result = match_span(answer, key)
    assert result.kind == "number"
    assert not result.matched
    assert result.found is None


def test_number_relative_tolerance():
    assert not match_span("set 29 psi", "2 bar").matched  # exact conversion: 2 bar = 29.0075 psi
    assert match_span("set 29 psi", "2 bar", rel_tol=0.01).found == "29 psi"
    assert match_span("about 6.5000001 h", "6.5 hours").matched
    assert not match_span("about 6.51 h", "6.5 hours").matched
    assert match_span("about 6.51 h", "6.5 hours", rel_tol=0.01).matched


def test_number_kind_with_an_unknown_unit_compares_the_words_after_the_number():
    assert match_span("Fit 3 widgets, then test.", "3 widgets", "number").found == "3 widgets"
    assert not match_span("Fit 3 sprockets.", "3 widgets", "number").matched
    assert not match_span("Fit 4 widgets.", "3 widgets", "number").matched
    assert match_span("Lắp 3 CÁI bu lông.", "3 cái", "number").found == "3 CÁI"
    assert detect_kind("3 widgets") == "string"
    with pytest.raises(ConfigError, match="not a number"):
        match_span("anything", "Check ring wear", "number")


def test_number_found_maps_back_through_decomposed_text():
    answer = unicodedata.normalize("NFD", "Máy chạy 6,5 giờ mỗi ngày.")
    found = match_span(answer, "6.5 hours").found
    assert found is not None and found in answer
    assert unicodedata.normalize("NFC", found) == "6,5 giờ"


# ------------------------------------------------------------------------------------------------- date


@pytest.mark.parametrize(
    ("answer", "key", "found"),
    [
        ("He was born on 19 May 1890.", "19 May 1890", "19 May 1890"),
        ("He was born on 19th May 1890.", "19 May 1890", "19th May 1890"),
        ("He was born on the 19th of May, 1890.", "19 May 1890", "19th of May, 1890"),
        ("He was born on May 19, 1890.", "19 May 1890", "May 19, 1890"),
        ("He was born on May 19th 1890.", "1890-05-19", "May 19th 1890"),
        ("He was born on 1890-05-19.", "19 May 1890", "1890-05-19"),
        ("He was born on 19/05/1890.", "19 May 1890", "19/05/1890"),
        ("He was born on 19.05.1890.", "19 May 1890", "19.05.1890"),
        ("He was born on 05/19/1890.", "19 May 1890", "05/19/1890"),  # month first: day first impossible
        ("Nato il 19 maggio 1890.", "19 May 1890", "19 maggio 1890"),
        ("Né le 1er mai 1890.", "1 May 1890", "1er mai 1890"),
        ("Sinh ngày 19 tháng 5 năm 1890.", "19 May 1890", "ngày 19 tháng 5 năm 1890"),
        ("Opened on 3 March 2022.", "2022-03-03", "3 March 2022"),
        ("Opened on Mar. 3, 2022.", "2022-03-03", "Mar. 3, 2022"),
        ("Opened on Sept 3, 2021.", "3 September 2021", "Sept 3, 2021"),
        ("He was born on 19 May 1890.", "May 1890", "19 May 1890"),
        ("He was born in May 1890.", "May 1890", "May 1890"),
        ("He was born in May of 1890.", "May 1890", "May of 1890"),
        ("He was born on 19/05/1890.", "May 1890", "19/05/1890"),
        ("He was born in 1890.", "1890", "1890"),
        ("He was born on 19 May 1890.", "1890", "19 May 1890"),
        ("He was born in décembre 1890.", "December 1890", "décembre 1890"),
        ("Every year on 19 May.", "19 May", "19 May"),
        ("Every year on 19 May 1890.", "19 May", "19 May 1890"),
        ("Installed 2022-03.", "March 2022", "2022-03"),
        ("Ships in Sept. 2021.", "September 2021", "Sept. 2021"),
    ],
)
def test_date_matches(answer, key, found):
    result = match_span(answer, key)
    assert result == SpanMatch(True, "date", found, key)


@pytest.mark.parametrize(
    ("answer", "key"),
    [
        ("He was born in 1890.", "19 May 1890"),
        ("He was born in May 1890.", "19 May 1890"),
        ("He was born on 20 May 1890.", "19 May 1890"),
        ("He was born on 19 May 1891.", "19 May 1890"),
        ("He was born on 19 June 1890.", "19 May 1890"),
        ("He was born in June 1890.", "May 1890"),
        ("He was born in 1890.", "May 1890"),
        ("He was born in 1891.", "1890"),
        ("The 1890s were hard.", "1890"),
        ("It spins at 1890 rpm.", "1890"),  # a number with a unit is no year
        ("Ticket WO-2022-0001.", "2022"),
        ("He was born on 19/05/1890.", "1890-19-05"),  # not a date key: kind string, no match
        ("Opened on 3 March 2022.", "2022-03-04"),
        ("Sinh năm 1890.", "19 May 1890"),
        ("A 1200.5 mm bar.", "May 1200"),  # a dotted year-month is not read as a date
        ("Production ran in the 1890s.", "1890"),
    ],
)
def test_date_does_not_match(answer, key):
    assert not match_span(answer, key).matched


def test_date_kind_with_a_key_that_is_no_date_raises():
    with pytest.raises(ConfigError, match="as a date"):
        match_span("in 1890", "Kim Liên", "date")


def test_date_found_maps_back_through_decomposed_text():
    answer = unicodedata.normalize("NFD", "Ông sinh ngày 19 tháng 5 năm 1890 ở Kim Liên.")
    found = match_span(answer, "19 May 1890").found
    assert found is not None and found in answer
    assert unicodedata.normalize("NFC", found) == "ngày 19 tháng 5 năm 1890"


# ----------------------------------------------------------------------------------- match_span, aliases


def test_aliases_are_tried_each_with_its_own_kind():
    result = match_span("It was called Saigon then.", "Ho Chi Minh City", aliases=["Saigon", "Sài Gòn"])
    assert result == SpanMatch(True, "string", "Saigon", "Saigon")
    result = match_span("It lasted 390 minutes.", "Check ring wear", aliases=["6.5 hours"])
    assert result == SpanMatch(True, "number", "390 minutes", "6.5 hours")
    result = match_span("It lasted 390 minutes.", "six and a half hours", aliases=["6.5 hours"])
    assert result == SpanMatch(True, "number", "390 minutes", "six and a half hours")
    generated = match_span("It was Saigon.", "Ho Chi Minh City", aliases=(a for a in ["Saigon"]))
    assert generated.key == "Saigon"
    miss = match_span("No idea.", "1890", aliases=["Kim Liên"])
    assert miss == SpanMatch(False, "date", None, "1890")


def test_explicit_kind_overrides_detection():
    result = match_span("Born 1890, in 1890 exactly", "1890", "string")
    assert result.kind == "string" and result.found == "1890"
    assert match_span("It spins at 1890 rpm.", "1890", "number").found == "1890 rpm"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"key": ""}, "non-empty string"),
        ({"key": "   "}, "non-empty string"),
        ({"key": "x", "aliases": ["ok", ""]}, "every alias"),
        ({"key": "x", "aliases": "Saigon"}, "list of strings"),
        ({"key": "x", "rel_tol": -0.1}, "rel_tol"),
        ({"key": "x", "kind": "colour"}, "unknown span kind 'colour'; known: .*date.*number.*string"),
        ({"key": "x", "kind": None}, "kind must be a string"),
    ],
)
def test_match_span_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        match_span("some answer", **kwargs)


def test_match_span_rejects_a_non_string_answer():
    with pytest.raises(TypeError, match="answer must be a str"):
        match_span(None, "x")  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------- registry


def test_builtin_kinds_are_registered():
    assert {"string", "number", "date"} <= set(known_span_kinds())
    assert "auto" not in known_span_kinds()


def test_register_a_custom_kind():
    def part_number(answer, key, *, strip_accents, rel_tol):
        wanted = key.replace("-", "").upper()
        for token in answer.replace(",", " ").split():
            if token.replace("-", "").upper().rstrip(".") == wanted:
                return token.rstrip(".")
        return None

    register_span_matcher("test_part_number", part_number, overwrite=True)
    assert "test_part_number" in known_span_kinds()
    assert match_span("Fit a 62052RS.", "6205-2RS", "test_part_number") == SpanMatch(
        True, "test_part_number", "62052RS", "6205-2RS"
    )
    assert not match_span("Fit a 6205-2Z.", "6205-2RS", "test_part_number").matched
    with pytest.raises(ConfigError, match="already registered"):
        register_span_matcher("test_part_number", part_number)

    @register_span_matcher("test_always", overwrite=True)
    def always(answer, key, *, strip_accents, rel_tol):
        return answer[:3]

    assert match_span("abcdef", "zzz", "test_always").found == "abc"


def test_register_rejects_auto_non_callables_and_bad_results():
    with pytest.raises(ConfigError, match="reserved"):
        register_span_matcher("auto", lambda *a, **k: None)
    with pytest.raises(ConfigError, match="non-empty"):
        register_span_matcher("", lambda *a, **k: None)
    with pytest.raises(TypeError, match="callable"):
        register_span_matcher("test_not_callable", 42)  # type: ignore[arg-type]
    register_span_matcher("test_bad_result", lambda *a, **k: 1, overwrite=True)
    with pytest.raises(TypeError, match="must return a str or None"):
        match_span("answer", "key", "test_bad_result")


# ------------------------------------------------------------------------------------------ abstention


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "   \n",
        "I don't know.",
        "I do not know the answer to that.",
        "Honestly, I really don’t know.",  # curly apostrophe
        "I'm not sure.",
        "I am not certain about that.",
        "Not sure, sorry.",
        "I have no idea.",
        "There is no information about that pump.",
        "I have no record of that work order.",
        "No records of such a repair exist.",
        "I have no data on it.",
        "I don't have any information about this.",
        "I do not have enough information to answer.",
        "I cannot answer that.",
        "I can't say.",
        "I can’t tell from what I know.",
        "Sorry, I am unable to answer.",
        "I'm not able to determine that.",
        "I could not find that ticket.",
        "I couldn't find it in my records.",
        "Unknown.",
        "unknown",
        "Unknown, there is nothing about it.",
        "N/A",
        "The date of that repair is unknown.",
        "I'm not aware of such a machine.",
        "That is not mentioned in the manual.",
        "It is not documented.",
        "The manual does not specify it.",
        "That is not in my data.",
        "There is no such work order.",
        "There is no ticket with that number.",
        "There's no record of it.",
        "That machine does not exist.",
        "That model doesn't exist.",
        "No such part.",
        "That is beyond my knowledge.",
    ],
)
def test_abstentions(answer):
    assert is_abstention(answer)


@pytest.mark.parametrize(
    "answer",
    [
        "The cause is unknown wear of the seal.",
        "Unknown wear of the seal caused it.",
        "Replace the seal; there is no need to drain the tank.",
        "Make sure the pump cannot run dry.",
        "The pump cannot provide enough pressure at 6 bar.",
        "The operator was not aware of the leak until 19 May 2021.",
        "He was born in Kim Liên in 1890.",
        "Check ring wear and replace the O-ring.",
        "No, the valve must stay closed.",
        "It takes 6.5 hours.",
        "The known issue is a worn bearing.",
    ],
)
def test_factual_answers_are_not_abstentions(answer):
    assert not is_abstention(answer)


def test_abstention_patterns_extra_and_replacement():
    assert not is_abstention("Non lo so.")
    assert is_abstention("Non lo so.", extra=[r"\bnon\s+lo\s+so\b"])
    assert is_abstention("I don't know.", extra=[r"\bnon\s+lo\s+so\b"])  # extra adds to the defaults
    assert not is_abstention("I don't know.", patterns=[r"\bnon\s+lo\s+so\b"])  # patterns replace them
    assert is_abstention("NON LO SO", patterns=[r"\bnon\s+lo\s+so\b"])  # case-insensitive
    assert not is_abstention("I don't know.", patterns=[])
    assert is_abstention("", patterns=[])  # an empty answer always counts
    assert len(DEFAULT_ABSTENTION_PATTERNS) > 10


def test_abstention_rejects_bad_patterns():
    with pytest.raises(ConfigError, match="invalid abstention pattern"):
        is_abstention("anything", extra=["(unclosed"])
    with pytest.raises(ConfigError, match="lists of regexes"):
        is_abstention("anything", extra="i don't know")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="must be a str"):
        is_abstention(42)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------- robustness


def test_random_texts_never_crash_and_found_is_always_a_piece_of_the_answer():
    import random

    rng = random.Random(7)
    vocab = ["6.5", "1,200", "1 200", "2016", "-20", "ten", "twenty-five", "a hundred", "May", "19th", "1890",
             "19/05/1890", "1890-05-19", "of", "and", "Kim Liên", "Huế", "WO-2022-0001", "6205-2RS", "per", "/",
             ",", ".", "-", "h", "min", "l", "°C", "%", "rpm", "ngày", "tháng", "năm", "5", "\u0301", "ß"]  # fmt: skip
    keys = ["6.5 hours", "22 l/min", "19 May 1890", "1890", "Kim Liên", "45%", "10", "1200 rpm"]
    matched = 0
    for _ in range(300):
        text = "".join(rng.choice(vocab) + rng.choice([" ", "", "\n"]) for _ in range(rng.randint(1, 20)))
        if rng.random() < 0.3:
            text = unicodedata.normalize("NFD", text)
        is_abstention(text)
        for key in keys:
            result = match_span(text, key)
            if result.matched:
                matched += 1
                assert result.found and result.found in text
    assert matched > 0
