"""History: what ``fit`` measured, one value per epoch for each quantity."""

from __future__ import annotations


class History:
    """Per-epoch values: ``history['loss']``, ``history['val_loss']``, one list per metric.

    ``history.history`` is the plain dict (Keras's layout); ``history.epoch`` lists the
    epoch numbers (0-based) the values belong to. ``stopped_by`` says what ended training
    before its last epoch, in one line beginning with the callback's name (e.g.
    ``'TerminateOnNaN: the loss became nan at epoch 2, step 3 ...'``), or is None.
    """

    def __init__(self, history: dict | None = None, epoch: list | None = None):
        self.history: dict[str, list] = {k: list(v) for k, v in (history or {}).items()}
        self.epoch: list[int] = list(epoch or [])
        self.params: dict = {}
        self.stopped_by: str | None = None

    def append(self, epoch: int, logs: dict) -> None:
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(value)

    def rows(self):
        """``(epoch, logs)`` for each epoch recorded, the logs as ``fit`` passed them on."""
        for i, epoch in enumerate(self.epoch):
            yield epoch, {k: v[i] for k, v in self.history.items() if i < len(v)}

    def __getitem__(self, key: str) -> list:
        try:
            return self.history[key]
        except KeyError:
            raise KeyError(f"no {key!r} in this history; it has {sorted(self.history)}") from None

    def __contains__(self, key: str) -> bool:
        return key in self.history

    def keys(self):
        return self.history.keys()

    def __len__(self) -> int:
        return len(self.epoch)

    def state_dict(self) -> dict:
        return {"history": {k: list(v) for k, v in self.history.items()}, "epoch": list(self.epoch)}

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        return cls(state["history"], state["epoch"])

    def __repr__(self) -> str:
        last = {k: v[-1] for k, v in self.history.items() if v}
        return f"History(epochs={len(self.epoch)}, last={last})"
