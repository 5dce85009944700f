import pytest

from domainft.errors import ConfigError
from domainft.training.config import TrainingConfig, cpu_has_native_bf16


def test_training_arguments_reflect_the_config(tmp_path):
    cfg = TrainingConfig(
        output_dir=str(tmp_path),
        learning_rate=1e-3,
        warmup_ratio=0.1,
        lr_scheduler_type="linear",
        gradient_accumulation_steps=4,
        save_total_limit=1,
        extra={"dataloader_drop_last": True},
    )
    args = cfg.to_training_arguments()
    assert args.learning_rate == 1e-3 and args.warmup_steps == 0.1 and args.gradient_accumulation_steps == 4
    assert args.lr_scheduler_type.value == "linear" and args.save_total_limit == 1
    assert args.train_sampling_strategy == "group_by_length" and args.dataloader_drop_last
    assert args.report_to in ([], "none", ["none"]) or not args.report_to
    # CPU: bf16 autocast where the CPU computes bf16 natively, else fp32
    assert args.bf16 == cpu_has_native_bf16() and not args.fp16
    assert cfg.to_training_arguments(has_eval=False).eval_strategy.value == "no"


def test_warmup_steps_win_over_ratio():
    assert TrainingConfig(warmup_steps=7, warmup_ratio=0.5).to_training_arguments().warmup_steps == 7


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"learning_rate": 0}, "learning_rate"),
        ({"per_device_train_batch_size": 0}, "per_device_train_batch_size"),
        ({"warmup_ratio": 1.5}, "warmup_ratio"),
        ({"eval_strategy": "steps"}, "eval_steps"),
    ],
)
def test_invalid_values_name_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=field):
        TrainingConfig(**kwargs)


def test_bad_passthrough_is_a_config_error():
    with pytest.raises(ConfigError, match="TrainingArguments"):
        TrainingConfig(extra={"no_such_argument": 1}).to_training_arguments()


def test_yaml_round_trip_and_type_errors(tmp_path):
    cfg = TrainingConfig(
        output_dir="runs/y", num_train_epochs=2, report_to=["tensorboard"], template="alpaca"
    )
    cfg.to_yaml(tmp_path / "t.yaml")
    assert TrainingConfig.from_yaml(tmp_path / "t.yaml") == cfg
    with pytest.raises(ConfigError, match=r"TrainingConfig\.learning_rate: expected a number"):
        TrainingConfig.from_dict({"learning_rate": "fast"})
