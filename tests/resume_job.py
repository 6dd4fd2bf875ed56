"""A training run on the digits dataset, used by tests/test_train.py in a separate process.

    python -m tests.resume_job OUT_DIR EPOCHS SHUFFLE DROPOUT [--kill-after N] [--resume CKPT]

Writes a checkpoint after every epoch to OUT_DIR/ckpt.safetensors and the final weights
and optimizer state to OUT_DIR/final.safetensors. With --kill-after N the process kills
itself with SIGKILL right after the checkpoint of epoch N is written.
"""

import argparse
import os
import signal

import descent as ds
from descent import nn


class KillAfter(ds.train.Callback):
    def __init__(self, epochs: int):
        self.epochs = epochs

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 == self.epochs:
            os.kill(os.getpid(), signal.SIGKILL)


class CountEpochs(ds.train.Callback):
    def __init__(self):
        self.count = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.count += 1


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("epochs", type=int)
    parser.add_argument("shuffle", type=int)
    parser.add_argument("dropout", type=float)
    parser.add_argument("--kill-after", type=int)
    parser.add_argument("--resume")
    args = parser.parse_args()

    from sklearn.datasets import load_digits

    digits = load_digits()
    X = ds.data.Standardizer().fit_transform(digits.data.astype("float32"))
    y = digits.target.astype("int64")
    ds.manual_seed(0)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Dropout(args.dropout), nn.Linear(32, 10))
    optimizer = ds.optim.Adam(model.parameters(), lr=1e-2)
    scheduler = ds.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.9)
    counter = CountEpochs()
    callbacks = [counter, ds.train.ModelCheckpoint(os.path.join(args.out, "ckpt.safetensors"))]
    if args.kill_after:
        callbacks.append(KillAfter(args.kill_after))
    ds.train.fit(
        model, "cross_entropy", optimizer, (X, y), epochs=args.epochs, batch_size=64,
        shuffle=bool(args.shuffle), scheduler=scheduler, callbacks=callbacks, metrics=["accuracy"],
        verbose=0, resume_from=args.resume,
    )  # fmt: skip
    print(f"epochs run in this process: {counter.count}")
    ds.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
        os.path.join(args.out, "final.safetensors"),
    )


if __name__ == "__main__":
    main()
