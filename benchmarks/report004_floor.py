"""The FLOP floor of report 004's full profile (one seed), part by part: how fast the report's
protocol could possibly run on this machine.

Counts the dense layers' matmul FLOPs the script's full profile asks for — training steps (3x the
forward pass), every test-curve and validation evaluation, the final scores — from the script's
own constants (reproductions/hw2_init_variance.py, FULL), and divides by the machine's measured
float32 matmul peak. Elementwise work, histograms and data movement come on top, so a real run
takes longer.

    python benchmarks/report004_floor.py
"""

from tfdl.harness import cli

import _speed

TRAIN, VAL, TEST = 55_000, 5_000, 10_000


def floor_flops(script):
    full, widths = script.FULL, [784, *script.HIDDEN, 10]
    forward = lambda n: _speed.forward_flops(n, widths)  # noqa: E731
    every = full["eval_every"]

    def run(steps, batch, validations=0):
        curve = steps // every + 1
        return (_speed.train_flops(steps, batch, widths) + curve * forward(TEST)
                + validations * forward(VAL) + forward(TRAIN + TEST))

    init_steps = full["init_steps"]
    return {
        "initialization": len(script.VARIANCES) * run(init_steps, script.DEFAULT_BATCH),
        "batch_size": sum(run(steps, min(batch, TRAIN))
                          for batch, steps in full["batch_steps"].items()),
        "learning_rate": len(full["learning_rates"]) * run(full["lr_steps"], script.LR_BATCH),
        "early_stopping": run(full["es_max_steps"], script.ES_BATCH,
                              full["es_max_steps"] // full["es_validate_every"]),
    }


def main():
    parts = floor_flops(cli.load_script("hw2_init_variance"))
    peak = _speed.matmul_peak()
    print(f"report 004, full profile, one seed: matmul FLOP floor at {peak / 1e9:.0f} GFLOP/s "
          f"({_speed.load()})")
    for name, flops in parts.items():
        print(f"  {name:<16} {flops / 1e12:7.1f} TFLOP   {flops / peak / 60:6.1f} min")
    total = sum(parts.values())
    print(f"  {'total':<16} {total / 1e12:7.1f} TFLOP   {total / peak / 60:6.1f} min")


if __name__ == "__main__":
    main()
