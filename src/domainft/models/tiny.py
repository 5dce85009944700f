"""Build a tiny causal LM and tokenizer offline, for tests, demos and CPU recipes.

The tokenizer is a byte-level BPE trained on the given texts (so the vocabulary fits the domain),
with ``<s>``, ``</s>``, ``<pad>``, ``<unk>`` and role tokens, and a chat template. The model is a
randomly initialised Llama, Mistral or Mixtral (mixture of experts) of a few hundred thousand
parameters. Both are saved with
``save_pretrained`` and load through the Auto classes; the result is deterministic for a seed.

Examples:
    >>> import tempfile
    >>> from domainft.models.tiny import build_tiny_model
    >>> path = build_tiny_model(["the pump leaks oil", "replace the seal"] * 20, tempfile.mkdtemp())
    >>> (path / "config.json").exists() and (path / "tokenizer.json").exists()
    True
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from domainft.configuration import ConfigBase, config_field
from domainft.errors import ConfigError, DataError
from domainft.registry import Registry
from domainft.utils.io import atomic_directory

#: Chat template of tiny tokenizers: role markers on their own line, EOS closes assistant turns.
TINY_CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}<|system|>\n{{ message['content'] }}\n"
    "{% elif message['role'] == 'user' %}<|user|>\n{{ message['content'] }}\n"
    "{% else %}<|assistant|>\n{{ message['content'] }}{{ eos_token }}\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]

#: Architectures the builder knows: name -> (config class, model class) in ``transformers``.
ARCHITECTURES: Registry[tuple[str, str]] = Registry("tiny architecture")
ARCHITECTURES.register("llama", ("LlamaConfig", "LlamaForCausalLM"))
ARCHITECTURES.register("mistral", ("MistralConfig", "MistralForCausalLM"))
ARCHITECTURES.register("mixtral", ("MixtralConfig", "MixtralForCausalLM"))

#: Architectures whose MLP is a mixture of experts (they get the expert fields of TinyModelConfig).
MOE_ARCHITECTURES = frozenset({"mixtral"})


@dataclass
class TinyModelConfig(ConfigBase):
    """Size and seed of a tiny model built by :func:`build_tiny_model`."""

    architecture: Literal["llama", "mistral", "mixtral"] = config_field(
        "llama", help="Architecture family; 'mixtral' is a sparse mixture of experts."
    )
    vocab_size: int = config_field(1024, help="BPE vocabulary size (special tokens included).")
    hidden_size: int = config_field(64, help="Width of the residual stream.")
    intermediate_size: int = config_field(128, help="Width of the MLP.")
    num_hidden_layers: int = config_field(2, help="Number of transformer blocks.")
    num_attention_heads: int = config_field(4, help="Attention heads.")
    num_key_value_heads: int = config_field(2, help="Key/value heads (grouped-query attention).")
    max_position_embeddings: int = config_field(1024, help="Longest sequence the model accepts.")
    num_local_experts: int = config_field(4, help="Experts per MoE layer (mixtral only).")
    num_experts_per_tok: int = config_field(2, help="Experts each token is routed to (mixtral only).")
    seed: int = config_field(0, help="Seed of the weight initialisation.")

    def validate(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ConfigError(
                f"TinyModelConfig.hidden_size={self.hidden_size} must be divisible by "
                f"num_attention_heads={self.num_attention_heads}"
            )
        if self.num_attention_heads % self.num_key_value_heads:
            raise ConfigError("TinyModelConfig.num_attention_heads must be a multiple of num_key_value_heads")
        if not 1 <= self.num_experts_per_tok <= self.num_local_experts:
            raise ConfigError(
                f"TinyModelConfig.num_experts_per_tok={self.num_experts_per_tok} must be between 1 and "
                f"num_local_experts={self.num_local_experts}"
            )
        if self.vocab_size < 300:
            raise ConfigError(
                f"TinyModelConfig.vocab_size={self.vocab_size}: use at least 300 (256 bytes + specials)"
            )


def train_tiny_tokenizer(texts: Iterable[str], vocab_size: int = 1024) -> Any:
    """Train a byte-level BPE tokenizer on ``texts``; returns a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    corpus = [t for t in texts if isinstance(t, str) and t.strip()]
    if not corpus:
        raise DataError("build_tiny_model needs at least one non-empty text to train its tokenizer")
    specials = ["<pad>", "<s>", "</s>", "<unk>", *ROLE_TOKENS]
    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(corpus, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token="<s>",
        eos_token="</s>",
        pad_token="<pad>",
        unk_token="<unk>",
        extra_special_tokens=ROLE_TOKENS,
        model_max_length=1024,
    )
    tokenizer.chat_template = TINY_CHAT_TEMPLATE
    return tokenizer


def build_tiny_model(
    texts: Iterable[str],
    output_dir: str | Path,
    config: TinyModelConfig | None = None,
    **overrides: Any,
) -> Path:
    """Train a tokenizer on ``texts``, build a random tiny causal LM and save both to ``output_dir``.

    ``overrides`` replace fields of ``config`` (for example ``architecture="mistral"``).
    Returns the output folder, loadable with ``QuantizedLoader`` or ``AutoModelForCausalLM``.
    """
    import torch
    import transformers

    cfg = (config or TinyModelConfig()).updated(**overrides)
    tokenizer = train_tiny_tokenizer(texts, vocab_size=cfg.vocab_size)
    tokenizer.model_max_length = cfg.max_position_embeddings
    config_cls_name, model_cls_name = ARCHITECTURES.get(cfg.architecture)
    experts = (
        {"num_local_experts": cfg.num_local_experts, "num_experts_per_tok": cfg.num_experts_per_tok}
        if cfg.architecture in MOE_ARCHITECTURES
        else {}
    )
    model_config = getattr(transformers, config_cls_name)(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=cfg.intermediate_size,
        num_hidden_layers=cfg.num_hidden_layers,
        num_attention_heads=cfg.num_attention_heads,
        num_key_value_heads=cfg.num_key_value_heads,
        max_position_embeddings=cfg.max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=False,
        **experts,
    )
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(cfg.seed)
        model = getattr(transformers, model_cls_name)(model_config)
    finally:
        torch.random.set_rng_state(generator_state)
    model.generation_config.pad_token_id = tokenizer.pad_token_id
    model.generation_config.eos_token_id = tokenizer.eos_token_id
    out = Path(output_dir)
    # a crash leaves the previous model or none
    with atomic_directory(out, replaces="config.json", where="build_tiny_model") as staging:
        model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        cfg.to_json(staging / "domainft_tiny.json")
    return out
