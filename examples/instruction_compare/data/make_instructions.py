"""Write ``instructions.jsonl``: a general alpaca-format instruction set, authored for this recipe.

    python examples/instruction_compare/data/make_instructions.py

Every text below was written for this recipe. Most items are written out one by one; unit
conversions, percentage problems, extraction messages and emails are assembled from authored
fragments with a fixed seed, and their numbers are computed, so every answer is correct. The output
is deterministic, and the shipped file is what the recipe reads.

Planned mess, so the cleaning steps have something to do:

- ``LONG_INPUT_ITEMS`` newsletter digests whose input is far longer than the prompt token budget and
  ``LONG_OUTPUT_ITEMS`` study guides whose answer is far longer than the response budget: the
  token-length filter drops them (reason ``too_many_tokens``);
- ``DUPLICATES`` items repeated with different spacing and casing: ``clean()`` drops them
  (reason ``duplicate``).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

SEED = 7
OUT = Path(__file__).with_name("instructions.jsonl")
LONG_INPUT_ITEMS = 6
LONG_OUTPUT_ITEMS = 3
DUPLICATES = 3

# --------------------------------------------------------------------------------------------------
# Short explanations of general facts: (question, answer)
FACTS = [
    (
        "Why is the sky blue?",
        "Sunlight contains every colour, and the molecules of the air scatter short blue wavelengths much "
        "more strongly than long red ones. That scattered blue light reaches our eyes from all directions, "
        "so the whole sky looks blue.",
    ),
    (
        "What causes the seasons on Earth?",
        "Earth's axis is tilted by about 23.5 degrees. As Earth orbits the Sun, each hemisphere takes turns "
        "leaning towards it, which brings more direct sunlight and longer days in summer and less in winter.",
    ),
    (
        "What is photosynthesis?",
        "Photosynthesis is the process plants, algae and some bacteria use to turn light energy, water and "
        "carbon dioxide into sugar. Oxygen is released as a by-product.",
    ),
    (
        "How do vaccines work?",
        "A vaccine shows the immune system a harmless piece or a weakened form of a germ. The body learns to "
        "recognise it and keeps memory cells, so it can react quickly if the real germ ever appears.",
    ),
    (
        "Why do we have leap years?",
        "A year on Earth lasts about 365.24 days. Adding an extra day to February roughly every four years "
        "keeps the calendar in step with the seasons.",
    ),
    (
        "What is the difference between weather and climate?",
        "Weather is the state of the atmosphere over hours or days, such as today's rain. Climate is the "
        "average pattern of weather in a region over decades.",
    ),
    (
        "How does a rainbow form?",
        "Sunlight enters raindrops, bends, reflects off the back of each drop and bends again on the way "
        "out. "
        "Each colour bends by a slightly different amount, so the light spreads into a band of colours.",
    ),
    (
        "What is inflation?",
        "Inflation is the general rise in prices over time. When it happens, the same amount of money buys "
        "fewer goods and services than before.",
    ),
    (
        "Why does ice float on water?",
        "Water expands when it freezes because its molecules lock into an open crystal pattern. Ice is "
        "therefore less dense than liquid water, so it floats.",
    ),
    (
        "What does DNA do?",
        "DNA stores the genetic instructions of living things. The order of its four chemical bases tells "
        "cells how to build proteins and passes traits on to offspring.",
    ),
    (
        "What is a black hole?",
        "A black hole is a region of space where matter is packed so densely that gravity lets nothing "
        "escape, not even light. Many form when very massive stars collapse at the end of their lives.",
    ),
    (
        "How does a refrigerator keep food cold?",
        "A refrigerator pumps a refrigerant around a closed loop. The fluid evaporates inside the fridge and "
        "absorbs heat, then it is compressed and condensed in the coils at the back, where it releases that "
        "heat into the room.",
    ),
    (
        "What is the water cycle?",
        "The water cycle is the constant movement of water on Earth: it evaporates from seas and land, "
        "condenses into clouds, falls as rain or snow, and flows back through rivers and groundwater.",
    ),
    (
        "Why does the Moon have phases?",
        "The Sun always lights half of the Moon. As the Moon orbits Earth we see different portions of that "
        "lit half, which gives the cycle from new moon to full moon and back.",
    ),
    (
        "What is an atom?",
        "An atom is the smallest unit of a chemical element. It has a nucleus of protons and neutrons "
        "surrounded by electrons.",
    ),
    (
        "What does the heart do?",
        "The heart is a muscular pump. It pushes blood through the lungs to pick up oxygen and then around "
        "the body to deliver oxygen and nutrients.",
    ),
    (
        "Why is regular exercise good for your health?",
        "Regular exercise strengthens the heart and muscles, helps control weight and blood pressure, "
        "improves sleep and mood, and lowers the risk of several chronic diseases.",
    ),
    (
        "What is compound interest?",
        "Compound interest is interest earned on both the original amount and on the interest already "
        "added. Over time the balance grows faster and faster.",
    ),
    (
        "What is the greenhouse effect?",
        "Gases such as carbon dioxide and water vapour let sunlight through but absorb part of the heat that "
        "Earth radiates back. This keeps the surface warmer than it would otherwise be, and adding more of "
        "these gases strengthens the effect.",
    ),
    (
        "How does water get from the roots of a plant to its leaves?",
        "Roots absorb water from the soil, and it rises through narrow tubes called xylem. Evaporation from "
        "the leaves pulls the column of water upwards.",
    ),
    (
        "What is a volcano?",
        "A volcano is an opening in Earth's crust through which molten rock, ash and gases escape from "
        "below. Repeated eruptions often build a mountain around the vent.",
    ),
    (
        "Why does the Moon cause tides?",
        "The Moon's gravity pulls slightly harder on the side of Earth facing it, raising a bulge of ocean "
        "water there and another on the opposite side. As Earth turns, coasts pass through these bulges and "
        "get high and low tides.",
    ),
    (
        "How fast does light travel?",
        "Light travels at about 299,792 kilometres per second in a vacuum. At that speed it needs a little "
        "over eight minutes to reach Earth from the Sun.",
    ),
    (
        "What is a noun?",
        "A noun is a word that names a person, place, thing or idea, such as teacher, Paris, chair or "
        "freedom.",
    ),
    (
        "What is the difference between a virus and a bacterium?",
        "Bacteria are single-celled organisms that can reproduce on their own. Viruses are much smaller and "
        "can only multiply inside the cells of a host. Antibiotics work against bacteria but not viruses.",
    ),
    (
        "What is GDP?",
        "Gross domestic product is the total value of the goods and services a country produces in a "
        "period, usually a year. It is a common measure of the size of an economy.",
    ),
    (
        "How does a compass work?",
        "A compass needle is a small magnet. It lines up with Earth's magnetic field, so one end points "
        "roughly towards magnetic north.",
    ),
    (
        "What is an ecosystem?",
        "An ecosystem is a community of living things together with their physical surroundings, such as "
        "soil, water and climate, all interacting as one system.",
    ),
    (
        "Why do leaves change colour in autumn?",
        "As the days get shorter, trees stop making green chlorophyll and it breaks down. Yellow and orange "
        "pigments that were hidden become visible, and some trees also make red ones.",
    ),
    (
        "What is a democracy?",
        "A democracy is a system of government in which the citizens hold power, usually by electing "
        "representatives in free and regular elections.",
    ),
    (
        "What does a CPU do?",
        "The central processing unit carries out a computer's program instructions: it performs "
        "calculations, makes decisions and moves data between memory and the other components.",
    ),
    (
        "What does the ozone layer do?",
        "The ozone layer, high in the stratosphere, absorbs most of the Sun's harmful ultraviolet radiation "
        "before it reaches the ground.",
    ),
    (
        "How do bees help plants?",
        "While collecting nectar, bees carry pollen from flower to flower. This pollination lets many plants "
        "produce fruit and seeds.",
    ),
    (
        "What is gravity?",
        "Gravity is the attraction between objects that have mass. It keeps us on the ground, holds the Moon "
        "in orbit around Earth and keeps Earth in orbit around the Sun.",
    ),
    (
        "At what temperature does water boil?",
        "At sea-level pressure pure water boils at 100 degrees Celsius (212 degrees Fahrenheit). Higher up, "
        "where the air pressure is lower, it boils at a lower temperature.",
    ),
    (
        "What is a password manager?",
        "A password manager is an app that keeps your passwords in an encrypted vault and can generate "
        "strong, unique ones, so you only have to remember a single master password.",
    ),
    (
        "What is the difference between RAM and storage?",
        "RAM is fast, temporary memory that holds what the computer is working on right now and is cleared "
        "when it switches off. Storage, such as an SSD, keeps files permanently but is slower.",
    ),
    (
        "Why is sleep important?",
        "During sleep the body repairs tissues and the brain consolidates memories. Too little sleep harms "
        "concentration, mood and the immune system.",
    ),
    (
        "What is erosion?",
        "Erosion is the wearing away of rock and soil by water, wind, ice or gravity, which then carry the "
        "material somewhere else.",
    ),
    (
        "What causes thunder?",
        "Lightning heats the air along its path to tens of thousands of degrees in a split second. The air "
        "expands violently, and that shock wave is the sound we hear as thunder.",
    ),
    (
        "What is a fraction?",
        "A fraction is part of a whole. The bottom number, the denominator, says into how many equal parts "
        "the whole is divided, and the top number, the numerator, says how many of those parts you have.",
    ),
    (
        "Why does recycling matter?",
        "Recycling turns used paper, glass, metal and some plastics into new products. It saves raw "
        "materials and energy and reduces the waste sent to landfill.",
    ),
    (
        "What is an earthquake?",
        "An earthquake is a shaking of the ground caused by a sudden release of energy when the rocks on "
        "either side of a fault slip past each other.",
    ),
    (
        "What is a prime number?",
        "A prime number is a whole number greater than 1 that can only be divided evenly by 1 and itself, "
        "such as 2, 3, 5, 7 and 11.",
    ),
    (
        "What do the lungs do?",
        "The lungs bring oxygen into the body and remove carbon dioxide. Air reaches tiny sacs called "
        "alveoli, where the gases pass between the air and the blood.",
    ),
    (
        "What is a web browser?",
        "A web browser is a program, such as Firefox or Chrome, that fetches pages from the internet and "
        "displays them so you can read them and interact with them.",
    ),
]
FACT_PHRASINGS = [
    "{q}",
    "{q}",
    "{q}",
    "Explain briefly: {q_lower}",
    "Answer in one or two sentences. {q}",
    'A student asks: "{q}" Give a short, clear answer.',
]

# --------------------------------------------------------------------------------------------------
# Summarise a given short text: (passage, one-sentence summary)
PASSAGES = [
    (
        "The city council voted on Tuesday to extend the opening hours of all public libraries. From next "
        "month, branches will stay open until 8 p.m. on weekdays instead of 6 p.m. The change follows a "
        "survey in which many residents said they could not visit after work. The extra hours will be paid "
        "for by savings from a new energy-efficient lighting system.",
        "The council extended library hours to 8 p.m. on weekdays, paid for by energy savings, after "
        "residents asked for evening access.",
    ),
    (
        "Honey bees tell each other where food is with a movement known as the waggle dance. A returning "
        "forager walks a figure-of-eight on the honeycomb, and the angle of the straight run shows the "
        "direction of the flowers relative to the sun. The length of the waggle tells the others how far "
        "away the food is.",
        "Honey bees use a waggle dance whose angle and length show other bees the direction and distance "
        "of food.",
    ),
    (
        "Version 4.2 of the app introduces a dark mode, faster photo uploads and a redesigned settings page. "
        "Users of older phones may notice that the app now needs at least 2 GB of free storage. The update "
        "also fixes a bug that made some notifications arrive twice.",
        "Version 4.2 adds dark mode, faster uploads and a new settings page, fixes duplicate notifications "
        "and needs 2 GB of free storage.",
    ),
    (
        "The Great Wall of China is not one wall but a network of fortifications built over many "
        "centuries. Different dynasties added sections, and most of what visitors see today dates from the "
        "Ming dynasty. Contrary to a popular myth, it is not easy to see with the naked eye from space.",
        "The Great Wall is a network of fortifications built over centuries, mostly under the Ming, and it "
        "is not easily visible from space.",
    ),
    (
        "A two-year study of 1,600 employees found that those allowed to work from home two days a week were "
        "just as productive as their office-based colleagues. They were also less likely to quit. Managers "
        "had worried about communication, but the researchers found no drop in performance reviews.",
        "A study found that hybrid workers were as productive as office staff and less likely to quit.",
    ),
    (
        "A manufacturer is recalling about 20,000 electric kettles sold between March and June because the "
        "base can overheat. Customers should stop using the kettle at once and check the model number on the "
        "underside. Owners of affected kettles can return them to any store for a full refund.",
        "About 20,000 kettles sold from March to June are being recalled because they can overheat, and "
        "owners can return them for a full refund.",
    ),
    (
        "Octopuses have three hearts and blue blood. Two of the hearts pump blood through the gills, while "
        "the third sends it around the rest of the body. Their blood carries oxygen with a copper-based "
        "molecule, hemocyanin, which works well in cold water that is low in oxygen.",
        "Octopuses have three hearts and copper-based blue blood suited to cold, oxygen-poor water.",
    ),
    (
        "Rail workers plan to strike on Friday and Saturday in a dispute over pay and working hours. Only "
        "about one train in five is expected to run, and services will end early in the evening. "
        "Passengers are advised to travel on other days if they can and to check timetables before leaving "
        "home.",
        "A rail strike on Friday and Saturday will cut services to about one train in five, so passengers "
        "should travel on other days if possible.",
    ),
    (
        "The marathon distance of 42.195 kilometres was fixed after the 1908 London Olympics, where the "
        "course ran from Windsor Castle to the stadium. Earlier races had varied in length. The name recalls "
        "the legend of a Greek messenger who ran from Marathon to Athens.",
        "The marathon's 42.195 km distance dates from the 1908 London Olympics, and its name comes from a "
        "Greek legend.",
    ),
    (
        "Researchers followed 500 adults for a year and found that people who drank up to three cups of "
        "coffee a day slept no worse than non-drinkers, as long as they stopped by early afternoon. Coffee "
        "drunk in the evening, however, was linked to shorter sleep.",
        "Moderate coffee drinking did not harm sleep unless the coffee was drunk in the evening.",
    ),
    (
        "Volunteers have turned an empty car park behind the station into a community garden. Residents can "
        "rent one of forty raised beds for a small yearly fee, and a shared tool shed is open every weekend. "
        "The group hopes to add a children's corner next spring.",
        "Volunteers turned a disused car park into a community garden with beds to rent, a shared tool shed "
        "and plans for a children's corner.",
    ),
    (
        "Johannes Gutenberg's printing press, developed around 1440, used movable metal type that could be "
        "rearranged for every page. Books became far cheaper and quicker to produce, which helped literacy "
        "and new ideas spread across Europe.",
        "Gutenberg's movable-type press made books cheaper and faster to produce, spreading literacy and "
        "ideas across Europe.",
    ),
    (
        "The town will introduce 300 rental electric scooters in a six-month trial. Riders must be over 18, "
        "hold a driving licence and stay on roads and cycle lanes. The council will review accident figures "
        "and complaints before deciding whether to make the scheme permanent.",
        "A six-month trial will bring 300 rental e-scooters for licensed adults, and the council will review "
        "it before deciding on its future.",
    ),
    (
        "Many shark species have to keep swimming to breathe, because water must flow over their gills. "
        "Others, such as the nurse shark, can pump water over their gills while resting on the sea floor.",
        "Some sharks must keep swimming to breathe, while others can pump water over their gills at rest.",
    ),
    (
        "Our team will move to the third floor of the east building on 14 May. Please pack your desk items "
        "into the labelled boxes by the evening of 12 May. The IT staff will move computers and phones, and "
        "everything should be working again by the morning of 15 May.",
        "The team moves to the east building's third floor on 14 May; desks must be packed by 12 May and IT "
        "will have everything running by 15 May.",
    ),
    (
        "Saturn's rings are made mostly of chunks of water ice, from tiny grains to pieces as big as a "
        "house. "
        "Although they stretch across hundreds of thousands of kilometres, in most places they are only "
        "about ten metres thick.",
        "Saturn's rings are vast but very thin bands made mostly of ice pieces of many sizes.",
    ),
    (
        "A language-learning company analysed millions of lessons and found that learners who practised for "
        "ten minutes every day made faster progress than those who studied for an hour once a week. The "
        "company says short, frequent sessions help memory more than long, rare ones.",
        "Data from a language app suggest that short daily practice beats a long weekly session.",
    ),
    (
        "The old river bridge will close to cars for six weeks from 1 July while engineers replace its "
        "expansion joints. Pedestrians and cyclists will still be able to cross. Drivers should use the ring "
        "road, which may add about ten minutes to their journeys.",
        "The river bridge closes to cars for six weeks from 1 July for repairs, but pedestrians and cyclists "
        "can still cross.",
    ),
    (
        "Emperor penguins breed during the Antarctic winter. After the female lays a single egg she returns "
        "to the sea to feed, and the male balances the egg on his feet for about two months, eating nothing "
        "until she comes back.",
        "Male emperor penguins keep the egg on their feet through the Antarctic winter while the females "
        "feed at sea.",
    ),
    (
        "From September, every primary school in the region will offer a free hot lunch to all pupils. The "
        "programme aims to improve nutrition and concentration in class. Parents who prefer packed lunches "
        "may continue to send them.",
        "All primary pupils in the region will get a free hot lunch from September, though packed lunches "
        "are still allowed.",
    ),
    (
        "The online store reports that an attacker accessed a database of customer email addresses and "
        "encrypted passwords. No payment details were stored in that database. The company has reset every "
        "password and asks customers to choose a new one and to watch out for suspicious emails.",
        "A breach at an online store exposed email addresses and encrypted passwords but no payment data, "
        "and all passwords have been reset.",
    ),
    (
        "Roman concrete has survived for two thousand years in harbours and buildings. Scientists found that "
        "small lumps of lime in the mix react with water that seeps into cracks, forming new minerals that "
        "seal the damage.",
        "Roman concrete lasts because lumps of lime react with water to seal its cracks.",
    ),
    (
        "The natural history museum reopens on Saturday after a year of renovation. The new dinosaur hall "
        "shows a full skeleton of a long-necked sauropod, and entry to the permanent galleries stays free. "
        "Timed tickets are recommended at weekends.",
        "The renovated natural history museum reopens on Saturday with a new dinosaur hall; entry is still "
        "free, but weekend visitors should book.",
    ),
    (
        "Bright screens in the hour before bed can delay the release of melatonin, the hormone that helps us "
        "fall asleep. Sleep experts suggest dimming devices, switching on night mode or reading a paper book "
        "instead.",
        "Screens before bed can delay sleep by holding back melatonin, so experts advise dimming devices or "
        "reading on paper.",
    ),
    (
        "Most customers who contacted support last month asked about delivery times. The second most common "
        "topic was how to change an order after paying. Complaints about product quality fell by a third "
        "compared with the month before.",
        "Support mostly handled delivery and order-change questions last month, while quality complaints "
        "fell by a third.",
    ),
    (
        "In 2020 China and Nepal jointly announced a new height for Mount Everest: 8,848.86 metres. "
        "Surveyors used satellite positioning and measured the snow cap on the summit. The figure is "
        "slightly higher than the previous official value.",
        "China and Nepal announced in 2020 that Everest is 8,848.86 metres high, slightly more than the old "
        "figure.",
    ),
    (
        "Starting next month, residents can put all plastic pots, tubs and trays in their recycling bins, "
        "not just bottles. Items should be rinsed, but labels can stay on. Plastic bags and film must still "
        "go in general waste.",
        "From next month, rinsed plastic pots, tubs and trays can go in the recycling, but bags and film "
        "cannot.",
    ),
    (
        "The food bank needs volunteers on Tuesday and Thursday mornings to sort donations. No experience is "
        "needed, and shifts last three hours. Anyone interested can sign up at the front desk or by phone.",
        "The food bank is looking for volunteers for three-hour sorting shifts on Tuesday and Thursday "
        "mornings.",
    ),
]
SUMMARY_INSTRUCTIONS = [
    "Summarise the following text in one sentence.",
    "Give a one-sentence summary of this paragraph.",
    "What is the main point of the passage below? Answer in one sentence.",
    "Condense this text into a single sentence.",
    "Write a short summary of the following announcement.",
    "Summarize the text below for a busy reader.",
]

# --------------------------------------------------------------------------------------------------
# Sentiment: (review, label, reason)
REVIEWS = [
    (
        "The headphones are light, the sound is clear and the battery easily lasts a full day.",
        "positive",
        "The reviewer praises the comfort, the sound and the battery life.",
    ),
    (
        "Arrived two weeks late and the box was crushed. The mug inside had a crack.",
        "negative",
        "The order was late and the product arrived damaged.",
    ),
    (
        "It does what it says. Nothing special, but no problems either.",
        "neutral",
        "The reviewer finds the product adequate and shows no strong feeling.",
    ),
    (
        "Best pizza I've had in this town, and the staff were lovely.",
        "positive",
        "The customer loved both the food and the service.",
    ),
    (
        "The app crashes every time I try to upload a photo. Very frustrating.",
        "negative",
        "The app crashes repeatedly during uploads.",
    ),
    (
        "Checked in at 3 p.m. as planned; the room was as shown in the photos.",
        "neutral",
        "The stay met expectations and nothing good or bad stands out.",
    ),
    (
        "I was sceptical, but this blender crushes ice in seconds. Totally worth the price.",
        "positive",
        "The blender beat the reviewer's expectations and is seen as good value.",
    ),
    (
        "The shoes looked great online but started falling apart after a month.",
        "negative",
        "The shoes wore out very quickly.",
    ),
    (
        "Customer service answered my question within an hour and solved the problem right away.",
        "positive",
        "Support was fast and effective.",
    ),
    (
        "The film was far too long and the ending made no sense.",
        "negative",
        "The viewer found the film too long and the ending confusing.",
    ),
    (
        "The package contained the charger and a cable. Setup took about five minutes.",
        "neutral",
        "The comment states facts and expresses no opinion.",
    ),
    (
        "Our guide was funny and knowledgeable; the tour was the highlight of our trip.",
        "positive",
        "The reviewer greatly enjoyed the tour and the guide.",
    ),
    (
        "I waited forty minutes for a cold coffee. Won't be back.",
        "negative",
        "The wait was long, the coffee was cold and the customer will not return.",
    ),
    (
        "This jacket keeps me warm and dry even in heavy rain.",
        "positive",
        "The jacket performs well in bad weather.",
    ),
    (
        "The instructions were missing, so assembly took much longer than it should have.",
        "negative",
        "Missing instructions made the assembly slow and difficult.",
    ),
    (
        "The hotel is ten minutes from the station and breakfast is served until ten.",
        "neutral",
        "The review gives practical facts without judging them.",
    ),
    (
        "Five stars. The plant arrived healthy and beautifully packed.",
        "positive",
        "The plant arrived in excellent condition.",
    ),
    (
        "The subscription price went up again without any new features. Cancelling.",
        "negative",
        "The customer is unhappy about a price rise without improvements and is leaving.",
    ),
    (
        "Battery life is fine, although the screen could be brighter.",
        "neutral",
        "The review balances mild praise with mild criticism.",
    ),
    (
        "My kids love this board game and we've played it every evening this week.",
        "positive",
        "The family enjoys the game a lot.",
    ),
    (
        "The delivery driver left the parcel out in the rain and it was soaked.",
        "negative",
        "The parcel was damaged by careless delivery.",
    ),
    (
        "Clean rooms, friendly staff and a great view of the harbour.",
        "positive",
        "The reviewer praises the rooms, the staff and the view.",
    ),
    (
        "The course covers the basics. I expected a bit more depth, but it is well organised.",
        "neutral",
        "The reviewer weighs the limited depth against the good organisation.",
    ),
    (
        "Terrible signal everywhere in the building since the last update.",
        "negative",
        "The reviewer reports poor signal after an update.",
    ),
    (
        "This is the most comfortable chair I have ever owned, and my back pain is gone.",
        "positive",
        "The chair is very comfortable and has helped with back pain.",
    ),
    (
        "Order number 5521 was delivered on Monday.",
        "neutral",
        "It is a plain statement of fact.",
    ),
    (
        "The soup was far too salty and the bread was stale.",
        "negative",
        "The customer criticises the quality of the food.",
    ),
    (
        "Setting up the printer was easy, and it prints quickly and quietly.",
        "positive",
        "Setup was easy and the printer works well.",
    ),
    (
        "The concert started an hour late and the sound was muffled.",
        "negative",
        "The concert was late and the sound was poor.",
    ),
    (
        "Beautifully written, even if the middle part drags a little.",
        "positive",
        "The reviewer likes the writing despite a slow middle section.",
    ),
    (
        "Refund processed within two days, no questions asked. Impressed.",
        "positive",
        "The refund was quick and easy.",
    ),
    (
        "The gym is packed in the evenings and half the machines are broken.",
        "negative",
        "The gym is overcrowded and poorly maintained.",
    ),
    (
        "The lamp is 40 centimetres tall and comes in white or black.",
        "neutral",
        "It only describes the product.",
    ),
    (
        "Fantastic value for money; I've already recommended it to friends.",
        "positive",
        "The customer finds it great value and recommends it.",
    ),
    (
        "The charger stopped working after three days and support never replied.",
        "negative",
        "The product failed quickly and support did not help.",
    ),
    (
        "The museum was fine. We spent about two hours there.",
        "neutral",
        "The visitor expresses neither enthusiasm nor disappointment.",
    ),
]
SENTIMENT_LABEL_ONLY = [
    "Classify the sentiment of this review as positive, negative or neutral. Answer with one word.",
    "What is the sentiment of the following customer comment? Reply with positive, negative or neutral.",
]
SENTIMENT_WITH_REASON = [
    "Is the following review positive, negative or neutral? Explain briefly.",
    "Determine the sentiment of this comment and give a one-sentence reason.",
]

# --------------------------------------------------------------------------------------------------
# Rewriting: (instruction, input, output)
REWRITES = [
    (
        "Rewrite this message in a more formal tone.",
        "hey, can u send me the report asap?",
        "Could you please send me the report at your earliest convenience?",
    ),
    (
        "Rewrite this message in a more formal tone.",
        "We can't make it to the meeting tomorrow, sorry.",
        "Unfortunately, we will be unable to attend tomorrow's meeting. We apologise for any inconvenience.",
    ),
    (
        "Make this sentence more formal.",
        "Thanks a ton for helping out with the move!",
        "Thank you very much for your help with the move.",
    ),
    (
        "Make this sentence more formal.",
        "The boss wants the numbers by Friday, no excuses.",
        "The manager requires the figures by Friday.",
    ),
    (
        "Rewrite this text message as a formal sentence.",
        "gonna be late, traffic is crazy",
        "I will be arriving late because of heavy traffic.",
    ),
    (
        "Correct the grammar in this sentence.",
        "She don't like going to the gym on mondays.",
        "She doesn't like going to the gym on Mondays.",
    ),
    (
        "Correct the grammar in this sentence.",
        "Their going to the park later, if it dont rain.",
        "They're going to the park later if it doesn't rain.",
    ),
    (
        "Fix the grammatical errors.",
        "Me and him was at the station when the train arrive.",
        "He and I were at the station when the train arrived.",
    ),
    (
        "Fix the grammatical errors.",
        "The list of items are on the table.",
        "The list of items is on the table.",
    ),
    (
        "Correct the mistake in this sentence.",
        "I have saw that film three times.",
        "I have seen that film three times.",
    ),
    (
        "Correct the mistake in this sentence.",
        "Each of the students have their own locker.",
        "Each of the students has their own locker.",
    ),
    (
        "Rewrite this sentence in the active voice.",
        "The cake was eaten by the children.",
        "The children ate the cake.",
    ),
    (
        "Rewrite this sentence in the active voice.",
        "The report will be reviewed by the committee next week.",
        "The committee will review the report next week.",
    ),
    (
        "Change this sentence from passive to active voice.",
        "Several mistakes were made by the accounting team.",
        "The accounting team made several mistakes.",
    ),
    (
        "Change this sentence from passive to active voice.",
        "The window was broken by a football.",
        "A football broke the window.",
    ),
    (
        "Rewrite this in plain English.",
        "In the event that the payment is not received within the specified time frame, the order will be "
        "cancelled.",
        "If we do not receive your payment in time, we will cancel the order.",
    ),
    (
        "Rewrite this in plain English.",
        "Due to the fact that the weather conditions were unfavourable, the match was postponed.",
        "The match was postponed because of bad weather.",
    ),
    (
        "Simplify this sentence.",
        "Individuals who wish to participate should register prior to the commencement of the event.",
        "If you want to take part, register before the event starts.",
    ),
    (
        "Simplify this sentence.",
        "The utilisation of public transport is encouraged for the purpose of reducing congestion.",
        "Please use public transport to reduce traffic.",
    ),
    (
        "Simplify this sentence.",
        "At this point in time we are not in a position to offer a refund.",
        "We cannot offer a refund right now.",
    ),
    (
        "Make this request more polite.",
        "Send me the file now.",
        "Could you please send me the file when you have a moment?",
    ),
    (
        "Rephrase this feedback so that it sounds constructive.",
        "Your work has too many mistakes.",
        "Your work is a good start, but there are a few mistakes we should go through together.",
    ),
    (
        "Make this request more polite.",
        "Move your car, it's blocking the gate.",
        "Would you mind moving your car? It is blocking the gate.",
    ),
    (
        "Make this request more polite.",
        "Stop calling me during lunch.",
        "Could we please avoid calls during my lunch break?",
    ),
    (
        "Shorten this sentence without changing its meaning.",
        "I just wanted to write to let you know that I will unfortunately not be able to come to the party "
        "that is happening on Saturday evening.",
        "Unfortunately, I can't come to the party on Saturday evening.",
    ),
    (
        "Shorten this sentence without changing its meaning.",
        "The meeting that was supposed to take place on Wednesday has been moved and will now take place on "
        "Thursday instead.",
        "Wednesday's meeting has been moved to Thursday.",
    ),
    (
        "Make this sentence more concise.",
        "Our company is a company that makes furniture that is made from wood that comes from sustainable "
        "forests.",
        "Our company makes furniture from sustainably sourced wood.",
    ),
    (
        "Rewrite this notice in a friendlier tone.",
        "The shop closes at 6. No entry after that.",
        "We're open until 6 p.m. and look forward to seeing you before then!",
    ),
    (
        "Make this sentence more descriptive.",
        "The sunset was nice.",
        "The sunset painted the sky in glowing shades of orange and pink.",
    ),
    (
        "Explain the meaning of this proverb in plain words.",
        "The early bird catches the worm.",
        "People who start early often get the best opportunities.",
    ),
    (
        "Turn this statement into a question.",
        "The library opens at nine.",
        "What time does the library open?",
    ),
    (
        "Rewrite this sentence so that a ten-year-old can understand it.",
        "Photosynthesis converts light energy into chemical energy stored in glucose.",
        "Plants use sunlight to make their own food.",
    ),
    (
        "Rewrite this sentence in the past tense.",
        "She walks to work and buys a coffee on the way.",
        "She walked to work and bought a coffee on the way.",
    ),
]

# --------------------------------------------------------------------------------------------------
# Lists: (instruction, output)
LISTS = [
    ("List three renewable sources of energy.", ["Solar power", "Wind power", "Hydroelectric power"]),
    ("Name four planets in our solar system.", ["Mercury", "Venus", "Mars", "Jupiter"]),
    (
        "Give five tips for saving money on groceries.",
        [
            "Plan your meals and write a shopping list.",
            "Compare prices per kilo or per litre.",
            "Buy fruit and vegetables that are in season.",
            "Choose store brands.",
            "Avoid shopping when you are hungry.",
        ],
    ),
    (
        "List three ways to reduce stress.",
        [
            "Take a walk or exercise regularly.",
            "Get enough sleep.",
            "Talk to a friend about what is bothering you.",
        ],
    ),
    (
        "Suggest four names for a new bakery.",
        ["The Golden Crust", "Rise & Shine", "Flour Power", "The Rolling Pin"],
    ),
    ("List the primary colours of light.", ["Red", "Green", "Blue"]),
    ("Name three mammals that live in the sea.", ["Blue whale", "Dolphin", "Sea otter"]),
    (
        "List five things to pack for a day at the beach.",
        ["Sunscreen", "A towel", "A water bottle", "A hat", "A swimsuit"],
    ),
    ("Give three examples of citrus fruits.", ["Orange", "Lemon", "Grapefruit"]),
    (
        "List four things to check on a car before a long trip.",
        ["Tyre pressure", "Oil level", "Windscreen washer fluid", "Lights and indicators"],
    ),
    ("Name the three common states of matter.", ["Solid", "Liquid", "Gas"]),
    (
        "Give four ideas for a rainy-day activity with children.",
        ["Play a board game", "Bake biscuits together", "Build a blanket fort", "Paint or draw pictures"],
    ),
    ("List three widely used programming languages.", ["Python", "JavaScript", "Java"]),
    ("Name five countries in South America.", ["Brazil", "Argentina", "Chile", "Peru", "Colombia"]),
    (
        "List three benefits of reading regularly.",
        ["A wider vocabulary", "Better concentration", "A relaxing break from screens"],
    ),
    (
        "Give four tips for a job interview.",
        [
            "Research the company beforehand.",
            "Prepare examples of your past work.",
            "Arrive a few minutes early.",
            "Have questions ready for the interviewer.",
        ],
    ),
    (
        "List three safety rules for using a kitchen knife.",
        [
            "Cut away from your body.",
            "Keep your fingers curled away from the blade.",
            "Use a stable cutting board.",
        ],
    ),
    (
        "Name the four instruments of an orchestra's string section.",
        ["Violin", "Viola", "Cello", "Double bass"],
    ),
    (
        "List five vegetables that grow well in a small garden.",
        ["Tomatoes", "Lettuce", "Radishes", "Courgettes", "Runner beans"],
    ),
    (
        "Give three ways to save water at home.",
        [
            "Take shorter showers.",
            "Fix dripping taps.",
            "Run the washing machine only when it is full.",
        ],
    ),
    ("List the four seasons in order, starting with spring.", ["Spring", "Summer", "Autumn", "Winter"]),
    (
        "Suggest three questions to ask at the end of a job interview.",
        [
            "What does a typical day in this role look like?",
            "How will success be measured in the first six months?",
            "What are the next steps in the hiring process?",
        ],
    ),
    ("List four common symptoms of a cold.", ["A runny nose", "A sore throat", "A cough", "Sneezing"]),
    (
        "Name three famous paintings and their painters.",
        [
            "Mona Lisa by Leonardo da Vinci",
            "The Starry Night by Vincent van Gogh",
            "The Persistence of Memory by Salvador Dalí",
        ],
    ),
    (
        "List the steps to make a cup of tea.",
        [
            "Boil fresh water.",
            "Put a tea bag in a cup and pour the water over it.",
            "Leave it to brew for three to five minutes.",
            "Remove the bag and add milk or sugar if you like.",
        ],
    ),
    (
        "Give four ideas for a team-building event.",
        ["An escape room", "A cooking class", "A volunteering day", "A treasure hunt in the city"],
    ),
    ("List five words that rhyme with 'light'.", ["Night", "Bright", "Kite", "Flight", "White"]),
    (
        "Name three continents that lie mostly in the Southern Hemisphere.",
        ["Australia", "Antarctica", "South America"],
    ),
]

# --------------------------------------------------------------------------------------------------
# Code: (instruction, input, output)
CODE = [
    (
        "Write a Python function that reverses a string.",
        "",
        "def reverse_string(text):\n    return text[::-1]",
    ),
    (
        "Write a Python function that checks whether a number is prime.",
        "",
        "def is_prime(n):\n    if n < 2:\n        return False\n    for d in range(2, int(n ** 0.5) + 1):\n"
        "        if n % d == 0:\n            return False\n    return True",
    ),
    (
        "Write one line of Python that sums the even numbers in a list called nums.",
        "",
        "total = sum(n for n in nums if n % 2 == 0)",
    ),
    (
        "Write a Python function that counts the vowels in a string.",
        "",
        'def count_vowels(text):\n    return sum(1 for ch in text.lower() if ch in "aeiou")',
    ),
    (
        "Write a SQL query that returns all customers from the city of Lyon.",
        "Table: customers(id, name, city)",
        "SELECT id, name FROM customers WHERE city = 'Lyon';",
    ),
    (
        "Write a SQL query that counts the orders of each customer.",
        "Table: orders(id, customer_id, total)",
        "SELECT customer_id, COUNT(*) AS order_count FROM orders GROUP BY customer_id;",
    ),
    (
        "Write a shell command that counts the lines in file.txt.",
        "",
        "wc -l file.txt",
    ),
    (
        "Write a JavaScript function that returns the largest number in an array.",
        "",
        "function largest(numbers) {\n  return Math.max(...numbers);\n}",
    ),
    (
        "Write a Python function that converts a temperature from Celsius to Fahrenheit.",
        "",
        "def celsius_to_fahrenheit(celsius):\n    return celsius * 9 / 5 + 32",
    ),
    (
        "Write Python code that prints each line of a text file with its line number.",
        "",
        'with open("notes.txt", encoding="utf-8") as f:\n    for number, line in enumerate(f, start=1):\n'
        "        print(number, line.rstrip())",
    ),
    (
        "Write a Python function that returns the factorial of n.",
        "",
        "def factorial(n):\n    result = 1\n    for i in range(2, n + 1):\n"
        "        result *= i\n    return result",
    ),
    (
        "Explain what this Python code does.",
        "squares = [x * x for x in range(5)]",
        "It builds a list of the squares of the numbers 0 to 4, so squares is [0, 1, 4, 9, 16].",
    ),
    (
        "Fix the bug in this Python function.",
        "def add(a, b):\n    return a - b",
        "def add(a, b):\n    return a + b\n\nThe function subtracted b instead of adding it.",
    ),
    (
        "Write a Python function that removes duplicates from a list but keeps the original order.",
        "",
        "def unique(items):\n    seen = set()\n    result = []\n    for item in items:\n"
        "        if item not in seen:\n            seen.add(item)\n"
        "            result.append(item)\n    return result",
    ),
    (
        "Write a regular expression that matches a five-digit postal code.",
        "",
        "^\\d{5}$",
    ),
    (
        "Write a Python dictionary that maps three fruits to their colours.",
        "",
        'fruit_colours = {"banana": "yellow", "cherry": "red", "lime": "green"}',
    ),
    (
        "Write a Python function that checks whether a word is a palindrome.",
        "",
        "def is_palindrome(word):\n    word = word.lower()\n    return word == word[::-1]",
    ),
    (
        "Write a Bash loop that prints the numbers 1 to 5.",
        "",
        'for i in 1 2 3 4 5; do\n  echo "$i"\ndone',
    ),
    (
        "Write a SQL query that finds the five most expensive products.",
        "Table: products(id, name, price)",
        "SELECT name, price FROM products ORDER BY price DESC LIMIT 5;",
    ),
    (
        "Write a Python function that returns the average of a list of numbers, or None for an empty list.",
        "",
        "def average(numbers):\n    if not numbers:\n        return None\n"
        "    return sum(numbers) / len(numbers)",
    ),
    (
        "Write a line of JavaScript that prints 'Hello, world!' to the console.",
        "",
        'console.log("Hello, world!");',
    ),
    (
        "Write a Python function that counts how often each word appears in a sentence.",
        "",
        "from collections import Counter\n\ndef word_counts(sentence):\n"
        "    return Counter(sentence.lower().split())",
    ),
    (
        "Write a Python function that returns the n-th Fibonacci number.",
        "",
        "def fibonacci(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a",
    ),
    (
        "Explain what this SQL query does.",
        "SELECT name FROM employees WHERE salary > 50000 ORDER BY name;",
        "It lists the names of the employees who earn more than 50,000, sorted alphabetically.",
    ),
    (
        "Write a Python function that merges two dictionaries into a new one.",
        "",
        "def merge(first, second):\n    return {**first, **second}",
    ),
    (
        "Write the git command that creates a branch called feature-login and switches to it.",
        "",
        "git switch -c feature-login",
    ),
]

# --------------------------------------------------------------------------------------------------
# Spam and topic classification: (instruction, input, output)
CLASSIFY = [
    (
        "Classify this email as spam or not spam.",
        "Congratulations! You have won a free cruise. Click the link within 24 hours to claim your prize.",
        "Spam",
    ),
    (
        "Classify this email as spam or not spam.",
        "Hi Sam, the slides for Thursday's workshop are attached. Let me know if anything is missing.",
        "Not spam",
    ),
    (
        "Classify this email as spam or not spam.",
        "Your account has been suspended. Confirm your bank details immediately to avoid closure.",
        "Spam",
    ),
    (
        "Classify this email as spam or not spam.",
        "Reminder: the dentist appointment for Lena is on 3 October at 9:30.",
        "Not spam",
    ),
    (
        "Classify this email as spam or not spam.",
        "Earn 5,000 euros a week from home! No experience needed, just reply with your phone number.",
        "Spam",
    ),
    (
        "Which category fits this headline best: sport, politics, technology, science or business?",
        "Local team wins the regional cup after a penalty shoot-out",
        "Sport",
    ),
    (
        "Which category fits this headline best: sport, politics, technology, science or business?",
        "Parliament approves new budget after a late-night vote",
        "Politics",
    ),
    (
        "Which category fits this headline best: sport, politics, technology, science or business?",
        "New smartphone chip promises two-day battery life",
        "Technology",
    ),
    (
        "Which category fits this headline best: sport, politics, technology, science or business?",
        "Astronomers spot water vapour in the atmosphere of a distant planet",
        "Science",
    ),
    (
        "Which category fits this headline best: sport, politics, technology, science or business?",
        "Supermarket chain reports record profits and plans 40 new stores",
        "Business",
    ),
    (
        "Classify each animal as a mammal, bird, reptile or fish.",
        "eagle, salmon, tortoise, bat",
        "Eagle: bird\nSalmon: fish\nTortoise: reptile\nBat: mammal",
    ),
    (
        "Sort these foods into fruits and vegetables.",
        "apple, carrot, banana, spinach, pear, onion",
        "Fruits: apple, banana, pear\nVegetables: carrot, spinach, onion",
    ),
    (
        "Is this sentence a fact or an opinion?",
        "Chocolate ice cream is the best flavour.",
        "Opinion. It expresses a personal preference that cannot be proven.",
    ),
    (
        "Is this sentence a fact or an opinion?",
        "Mount Kilimanjaro is in Tanzania.",
        "Fact. It can be checked on a map.",
    ),
    (
        "Identify the odd one out and explain why.",
        "violin, trumpet, cello, guitar",
        "The trumpet is the odd one out: it is a brass instrument, while the others have strings.",
    ),
]

# --------------------------------------------------------------------------------------------------
# Word meanings and differences: (instruction, output)
WORDS = [
    (
        "What is the difference between 'affect' and 'effect'?",
        "'Affect' is usually a verb meaning to influence something, while 'effect' is usually a noun meaning "
        "the result of a change. For example: the rain affected the match, and the effect was a delay.",
    ),
    (
        "What is the difference between 'fewer' and 'less'?",
        "Use 'fewer' for things you can count (fewer chairs) and 'less' for amounts you cannot count (less "
        "water).",
    ),
    (
        "Explain the difference between 'its' and 'it's'.",
        "'It's' is short for 'it is' or 'it has', while 'its' shows possession, as in 'the dog wagged its "
        "tail'.",
    ),
    ("Give a synonym for 'happy'.", "Cheerful."),
    ("Give the opposite of 'generous'.", "Mean, or stingy."),
    ("What does the word 'ephemeral' mean?", "Ephemeral means lasting for a very short time."),
    (
        "What does the idiom 'break the ice' mean?",
        "To break the ice means to ease tension and start a conversation in an awkward or new situation.",
    ),
    (
        "Use the word 'reluctant' in a sentence.",
        "He was reluctant to leave the party early, but he had to catch the last bus.",
    ),
    ("What is the plural of 'mouse'?", "The plural of 'mouse' is 'mice'."),
    (
        "What is an adjective? Give two examples.",
        "An adjective is a word that describes a noun, for example 'tall' and 'blue'.",
    ),
    (
        "What is the difference between a simile and a metaphor?",
        "A simile compares two things using 'like' or 'as' ('as brave as a lion'), while a metaphor says one "
        "thing is another ('he is a lion in battle').",
    ),
    (
        "What does 'RSVP' mean on an invitation?",
        "It asks you to reply to say whether you will attend; it comes from the French "
        "'répondez s'il vous plaît'.",
    ),
]

# --------------------------------------------------------------------------------------------------
# Fragments for extraction, emails, conversions and percentage problems
FIRST_NAMES = [
    "Anna",
    "Marco",
    "Priya",
    "Tom",
    "Lucia",
    "Jonas",
    "Fatima",
    "Daniel",
    "Mei",
    "Oliver",
    "Sara",
    "Karim",
]
LAST_NAMES = [
    "Keller",
    "Rossi",
    "Sharma",
    "Brennan",
    "Moreno",
    "Weber",
    "Haddad",
    "Novak",
    "Lin",
    "Hughes",
    "Lund",
    "Aziz",
]
COMPANIES = [
    "Brightlane Tools",
    "Northfield Dairy",
    "Alder & Finch",
    "Bluewater Print",
    "Corvid Labs",
    "Sunpeak Outdoor",
]
CITIES = ["Leeds", "Rotterdam", "Porto", "Lyon", "Graz", "Malmö", "Turin", "Cork"]
PRODUCTS = [
    "office chairs",
    "packs of A4 paper",
    "laptop stands",
    "boxes of printer toner",
    "desk lamps",
    "safety helmets",
    "whiteboards",
]
MONTHS = ["March", "April", "May", "June", "September", "October", "November"]
ROLES = [
    "project manager",
    "data analyst",
    "head of sales",
    "UX designer",
    "office manager",
    "software engineer",
]
EVENTS = [
    ("quarterly review", "in", "the large meeting room", "your sales figures"),
    ("first-aid training", "in", "the canteen", "comfortable clothes"),
    ("product launch rehearsal", "in", "studio B", "a printed copy of the script"),
    ("team breakfast", "on", "the roof terrace", "a mug"),
    ("budget workshop", "in", "room 4.12", "your laptop"),
    ("fire drill briefing", "at", "the main entrance", "your ID badge"),
]
TIMES = ["9:00", "9:30", "10:15", "11:00", "13:30", "14:00", "15:45", "16:30"]


def _email(first: str, last: str, company: str) -> str:
    domain = company.lower().replace(" & ", "-").replace(" ", "")
    return f"{first.lower()}.{last.lower()}@{domain}.example"


def extraction_items(rng: random.Random) -> list[dict[str, str]]:
    """Messages written from fragments; the answer is the JSON of the fields they contain."""
    items = []
    people = [(f, ln) for f in FIRST_NAMES for ln in LAST_NAMES]
    rng.shuffle(people)
    order_forms = [
        "Hello, this is {name} from {company}. Could you send {qty} {product} to our {city} office "
        "by {date}?",
        "Hi, {name} here ({company}). We need {qty} {product} delivered to {city} no later than {date}.",
        "Good morning, I'm {name} of {company}. Please ship {qty} {product} to the {city} branch before "
        "{date}. Thanks!",
    ]
    for i in range(10):
        first, last = people[i]
        fields = {
            "name": f"{first} {last}",
            "company": rng.choice(COMPANIES),
            "product": rng.choice(PRODUCTS),
            "quantity": rng.choice([3, 5, 8, 10, 12, 20, 25, 40]),
            "city": rng.choice(CITIES),
            "date": f"{rng.randint(1, 28)} {rng.choice(MONTHS)}",
        }
        text = order_forms[i % 3].format(
            qty=fields["quantity"], **{k: v for k, v in fields.items() if k != "quantity"}
        )
        answer = {
            "customer": fields["name"],
            "company": fields["company"],
            "product": fields["product"],
            "quantity": fields["quantity"],
            "delivery_city": fields["city"],
            "deadline": fields["date"],
        }
        instruction = rng.choice(
            [
                "Extract the customer, company, product, quantity, delivery city and deadline from this "
                "message as JSON.",
                "Read the order request below and return its details as a JSON object.",
            ]
        )
        items.append(_item("extraction", instruction, text, json.dumps(answer, ensure_ascii=False)))
    event_forms = [
        "Reminder: the {event} takes place on {date} at {time} {prep} {place}. Please bring {item}.",
        "Quick note: we're holding the {event} {prep} {place} on {date}, starting at {time}. Bring {item}.",
    ]
    for i, (event, prep, place, item) in enumerate(EVENTS * 2):
        if i >= 10:
            break
        date = f"{rng.randint(1, 28)} {rng.choice(MONTHS)}"
        time = rng.choice(TIMES)
        text = event_forms[i % 2].format(event=event, date=date, time=time, prep=prep, place=place, item=item)
        answer = {"event": event, "date": date, "time": time, "location": place}
        instruction = rng.choice(
            [
                "Extract the event, date, time and location from this announcement. Answer in JSON.",
                "Pull out the event name, date, start time and place from the note below as JSON.",
            ]
        )
        items.append(_item("extraction", instruction, text, json.dumps(answer, ensure_ascii=False)))
    contact_forms = [
        "{name} works as a {role} at {company} and can be reached at {email}.",
        "Please contact our {role}, {name} ({company}), at {email} for any questions.",
        "New colleague: {name} joins {company} as {role}. Email: {email}",
    ]
    for i in range(10):
        first, last = people[20 + i]
        company = rng.choice(COMPANIES)
        role = rng.choice(ROLES)
        email = _email(first, last, company)
        text = contact_forms[i % 3].format(name=f"{first} {last}", role=role, company=company, email=email)
        answer = {"name": f"{first} {last}", "job_title": role, "company": company, "email": email}
        instruction = rng.choice(
            [
                "Extract the name, job title, company and email address as JSON.",
                "Turn this sentence into a JSON record with name, job_title, company and email.",
            ]
        )
        items.append(_item("extraction", instruction, text, json.dumps(answer, ensure_ascii=False)))
    return items


# Unit conversions: (from, to, factor or function, values, note)
CONVERSIONS = [
    ("kilometres", "miles", 0.621371, [5, 12, 21.1, 42.195, 100], "1 km is about 0.6214 miles"),
    ("miles", "kilometres", 1.609344, [3, 10, 26.2, 60], "1 mile is 1.609 km"),
    ("kilograms", "pounds", 2.204623, [2, 5, 12.5, 70], "1 kg is about 2.2046 lb"),
    ("pounds", "kilograms", 0.453592, [1, 8, 150], "1 lb is about 0.4536 kg"),
    ("litres", "US gallons", 0.264172, [4, 20, 55], "1 litre is about 0.2642 US gallons"),
    ("metres", "feet", 3.28084, [2, 10, 8848], "1 metre is about 3.2808 feet"),
    ("inches", "centimetres", 2.54, [6, 15.6, 27], "1 inch is exactly 2.54 cm"),
    ("hours", "minutes", 60, [1.5, 2.25, 7], "1 hour has 60 minutes"),
    ("kilometres per hour", "metres per second", 1 / 3.6, [36, 50, 90, 120], "divide by 3.6"),
    ("square metres", "square feet", 10.7639, [12, 45, 80], "1 square metre is about 10.764 square feet"),
    ("grams", "ounces", 0.035274, [100, 250, 500], "1 gram is about 0.0353 ounces"),
]
TEMPERATURES_C = [-10, 0, 18, 25, 37, 100]
TEMPERATURES_F = [32, 50, 72, 98.6, 212]


def _num(x: float) -> str:
    """A number as people write it: no trailing zeros, thousands separators."""
    if abs(x - round(x)) < 1e-9:
        return f"{round(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")


def conversion_items(rng: random.Random) -> list[dict[str, str]]:
    items = []
    asks = [
        "Convert {v} {a} to {b}.",
        "How many {b} is {v} {a}?",
        "What is {v} {a} in {b}?",
    ]
    answers = [
        "{v} {a} is about {r} {b} ({note}).",
        "{note}, so {v} {a} ≈ {r} {b}.",
        "About {r} {b}.",
    ]
    for a, b, factor, values, note in CONVERSIONS:
        for v in rng.sample(values, k=min(2, len(values))):
            r = v * factor
            exact = abs(r - round(r, 2)) < 1e-9
            form = rng.randrange(3)
            answer = answers[form].format(v=_num(v), a=a, b=b, r=_num(round(r, 2)), note=note)
            if exact and form != 2:
                answer = answer.replace("is about", "is").replace("≈", "=")
            items.append(_item("conversion", rng.choice(asks).format(v=_num(v), a=a, b=b), "", answer))
    for c in rng.sample(TEMPERATURES_C, k=4):
        f = c * 9 / 5 + 32
        items.append(
            _item(
                "conversion",
                rng.choice(
                    ["Convert {c} °C to Fahrenheit.", "What is {c} degrees Celsius in Fahrenheit?"]
                ).format(c=c),
                "",
                f"Multiply by 9/5 and add 32: {c} × 9/5 + 32 = {_num(f)} °F.",
            )
        )
    for f in rng.sample(TEMPERATURES_F, k=3):
        c = (f - 32) * 5 / 9
        sign = "=" if round(c, 1) == c else "≈"
        items.append(
            _item(
                "conversion",
                rng.choice(
                    ["Convert {f} °F to Celsius.", "What is {f} degrees Fahrenheit in Celsius?"]
                ).format(f=_num(f)),
                "",
                f"Subtract 32 and multiply by 5/9: ({_num(f)} − 32) × 5/9 {sign} {_num(round(c, 1))} °C.",
            )
        )
    return items


def percentage_items(rng: random.Random) -> list[dict[str, str]]:
    """Everyday arithmetic with worked answers."""
    items = []
    goods = ["jacket", "bicycle", "pair of boots", "coffee machine", "backpack", "desk"]
    for good, price, pct in zip(
        rng.sample(goods, 5), [80, 240, 120, 65, 350], [25, 15, 30, 20, 10], strict=True
    ):
        off = price * pct / 100
        items.append(
            _item(
                "arithmetic",
                f"A {good} costs {price} euros and is reduced by {pct}%. What is the sale price?",
                "",
                f"The discount is {pct}% of {price} = {_num(off)} euros, so the sale price is "
                f"{_num(price - off)} euros.",
            )
        )
    for total, people in [(96, 4), (135, 5), (210, 6), (57, 3)]:
        items.append(
            _item(
                "arithmetic",
                f"{people} friends share a restaurant bill of {total} euros equally. How much does each pay?",
                "",
                f"{total} ÷ {people} = {_num(total / people)}, so each person pays "
                f"{_num(total / people)} euros.",
            )
        )
    for distance, hours in [(180, 2), (255, 3), (42, 0.5), (600, 5)]:
        items.append(
            _item(
                "arithmetic",
                f"A car travels {distance} km in {_num(hours)} hours. What is its average speed?",
                "",
                f"Average speed = distance ÷ time = {distance} ÷ {_num(hours)} = "
                f"{_num(distance / hours)} km/h.",
            )
        )
    for pct, amount in [(15, 240), (8, 350), (40, 85), (12.5, 64)]:
        items.append(
            _item(
                "arithmetic",
                f"What is {_num(pct)}% of {amount}?",
                "",
                f"{_num(pct)}% of {amount} is {amount} × {pct / 100:g} = {_num(amount * pct / 100)}.",
            )
        )
    for start_h, start_m, length in [(19, 40, 125), (14, 15, 95), (20, 30, 150)]:
        end = start_h * 60 + start_m + length
        items.append(
            _item(
                "arithmetic",
                f"A film starts at {start_h}:{start_m:02d} and lasts {length} minutes. When does it end?",
                "",
                f"{length} minutes is {length // 60} h {length % 60:02d} min, so the film ends at "
                f"{end // 60}:{end % 60:02d}.",
            )
        )
    return items


# Emails: (kind, instruction, body) formats; filled from fragments
EMAIL_KINDS = [
    (
        "Write a short email to {to} asking to move our {day} meeting to {new_day} because of {reason}. "
        "Sign it as {me}.",
        "Subject: New time for our {day} meeting\n\nHi {to},\n\nI'm sorry, but I need to move our meeting on "
        "{day} because of {reason}. Would {new_day} at the same time work for you?\n\nBest regards,\n{me}",
    ),
    (
        "Draft an email thanking {to} for helping with {task}. Sign as {me}.",
        "Subject: Thank you\n\nDear {to},\n\nThank you so much for your help with {task}. Your support made "
        "a real difference, and I really appreciate the time you gave.\n\nKind regards,\n{me}",
    ),
    (
        "Write an email to the accounts team asking for a copy of the invoice for order {order}. "
        "Sign as {me}.",
        "Subject: Invoice copy for order {order}\n\nHello,\n\nCould you please send me a copy of the invoice "
        "for order {order}? I need it for our records.\n\nThank you,\n{me}",
    ),
    (
        "Write a short email telling a customer, {to}, that order {order} is delayed and will now arrive on "
        "{date}. Sign as {me} from customer service.",
        "Subject: Update on your order {order}\n\nDear {to},\n\nWe're sorry to let you know that your order "
        "{order} has been delayed. It will now arrive on {date}. Thank you for your patience.\n\nBest "
        "wishes,\n{me}\nCustomer Service",
    ),
    (
        "Write an email to my manager, {to}, asking for a day off on {date}. Sign as {me}.",
        "Subject: Day off request for {date}\n\nHi {to},\n\nI would like to request a day off on {date}. My "
        "tasks for that day are covered, and I'll make sure nothing urgent is left open. Please let me know "
        "if that works.\n\nThanks,\n{me}",
    ),
    (
        "Write a follow-up email to {to} after my interview for the {role} position. Sign as {me}.",
        "Subject: Thank you for the interview\n\nDear {to},\n\nThank you for meeting me to discuss the "
        "{role} "
        "position. I enjoyed learning more about the team and I'm very interested in the role. I look "
        "forward to hearing from you.\n\nBest regards,\n{me}",
    ),
    (
        "Write a short email inviting the team to {an_event} on {date}. Sign as {me}.",
        "Subject: Invitation: {event} on {date}\n\nHi everyone,\n\nYou're all invited to {an_event} on "
        "{date}. Please reply by the end of the week so we can plan. Hope to see you there!\n\nCheers,\n{me}",
    ),
]
REASONS = ["a dentist appointment", "a clash with a client call", "a training session", "a family commitment"]
TASKS = [
    "the website launch",
    "the move to the new office",
    "preparing the annual report",
    "the customer survey",
]
TEAM_EVENTS = ["summer barbecue", "farewell lunch for Maria", "team quiz night", "end-of-project dinner"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def email_items(rng: random.Random) -> list[dict[str, str]]:
    items = []
    for kind, (ask, body) in enumerate(EMAIL_KINDS):
        for _ in range(3):
            day, new_day = rng.sample(DAYS, 2)
            values = {
                "to": rng.choice(FIRST_NAMES),
                "me": rng.choice(FIRST_NAMES),
                "day": day,
                "new_day": new_day,
                "reason": rng.choice(REASONS),
                "task": rng.choice(TASKS),
                "order": f"#{rng.randint(10000, 99999)}",
                "date": f"{rng.randint(1, 28)} {rng.choice(MONTHS)}",
                "role": rng.choice(ROLES),
                "event": rng.choice(TEAM_EVENTS),
            }
            values["an_event"] = ("an " if values["event"][0] in "aeiou" else "a ") + values["event"]
            while values["me"] == values["to"]:
                values["me"] = rng.choice(FIRST_NAMES)
            items.append(_item("email", ask.format(**values), "", body.format(**values)))
            if kind == 2:  # the invoice email has no recipient name: keep one of each
                break
    return items


def _item(category: str, instruction: str, input_text: str, output: str) -> dict[str, str]:
    return {"category": category, "instruction": instruction, "input": input_text, "output": output}


def core_items(rng: random.Random) -> list[dict[str, str]]:
    items = []
    for q, a in FACTS:
        phrasing = rng.choice(FACT_PHRASINGS)
        items.append(_item("explanation", phrasing.format(q=q, q_lower=q[0].lower() + q[1:]), "", a))
    for passage, summary in PASSAGES:
        items.append(_item("summary", rng.choice(SUMMARY_INSTRUCTIONS), passage, summary))
    for review, label, reason in REVIEWS:
        if rng.random() < 0.5:
            items.append(_item("sentiment", rng.choice(SENTIMENT_LABEL_ONLY), review, label.capitalize()))
        else:
            items.append(
                _item(
                    "sentiment", rng.choice(SENTIMENT_WITH_REASON), review, f"{label.capitalize()}. {reason}"
                )
            )
    items += [_item("rewrite", i, t, o) for i, t, o in REWRITES]
    for instruction, entries in LISTS:
        items.append(_item("list", instruction, "", "\n".join(f"{n}. {e}" for n, e in enumerate(entries, 1))))
    items += [_item("code", i, t, o) for i, t, o in CODE]
    items += [_item("classification", i, t, o) for i, t, o in CLASSIFY]
    items += [_item("word", i, "", o) for i, o in WORDS]
    items += extraction_items(rng)
    items += conversion_items(rng)
    items += percentage_items(rng)
    items += email_items(rng)
    return items


def long_items(rng: random.Random) -> list[dict[str, str]]:
    """Digests and guides far over the token budget, assembled from the passages and facts above."""
    items = []
    for _ in range(LONG_INPUT_ITEMS):
        picked = rng.sample(PASSAGES, 7)
        text = "\n\n".join(f"{n}. {p}" for n, (p, _) in enumerate(picked, 1))
        bullets = "\n".join(f"- {s}" for _, s in picked)
        items.append(
            _item("long_digest", "Summarise each item of this newsletter in one line.", text, bullets)
        )
    topics = [
        ("the natural world", ["Why is the sky blue?", "How does a rainbow form?", "What causes thunder?"]),
        ("the human body", ["What does the heart do?", "What do the lungs do?", "Why is sleep important?"]),
        (
            "planet Earth",
            ["What causes the seasons on Earth?", "What is a volcano?", "What is an earthquake?"],
        ),
    ]
    facts = dict(FACTS)
    for topic, questions in topics[:LONG_OUTPUT_ITEMS]:
        extra = [q for q, _ in rng.sample(FACTS, 6) if q not in questions][:3]
        sections = [f"{q}\n{facts[q]}" for q in [*questions, *extra]]
        guide = (
            f"Study guide: {topic}\n\n"
            + "\n\n".join(sections)
            + "\n\nReview each answer aloud before the test."
        )
        items.append(
            _item(
                "long_guide",
                f"Write a detailed study guide about {topic} that answers six common questions.",
                "",
                guide,
            )
        )
    return items


def build(seed: int = SEED) -> list[dict[str, str]]:
    rng = random.Random(seed)
    items = core_items(rng) + long_items(rng)
    rng.shuffle(items)
    duplicates = []
    for original in rng.sample(
        [it for it in items if it["category"] in {"explanation", "rewrite", "list"}], DUPLICATES
    ):
        copy = dict(original)
        copy["instruction"] = "  " + original["instruction"].upper() + " "  # pasted twice, shouting
        copy["output"] = original["output"].replace(". ", ".  ")
        duplicates.append(copy)
    for copy in duplicates:
        items.insert(rng.randrange(len(items)), copy)
    return [{"id": f"ins-{n:04d}", **item} for n, item in enumerate(items, 1)]


def main() -> None:
    items = build()
    with OUT.open("w", encoding="utf-8") as f:
        for item in items:
            f.write(json.dumps(item, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for item in items:
        counts[item["category"]] = counts.get(item["category"], 0) + 1
    print(f"wrote {len(items)} items to {OUT.name}: {dict(sorted(counts.items()))}")


if __name__ == "__main__":
    main()
