"""``ds.keras``: Keras's front for those who want it, on descent's modules and ``ds.train.fit``.

::

    model = ds.keras.Sequential([ds.keras.Input(shape=(4,)), ds.nn.Linear(4, 16),
                                 ds.nn.ReLU(), ds.nn.Linear(16, 3), ds.nn.Softmax(dim=1)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, epochs=50, validation_data=(x_val, y_val),
              callbacks=[ds.keras.callbacks.EarlyStopping(patience=5, verbose=1)])
    model.evaluate(x_test, y_test); model.predict(x_test); model.summary()

``ds.keras.Model(module)`` puts the same front on any descent module. ``losses`` holds
Keras's loss classes; ``callbacks`` is ``ds.train``'s callbacks module (Keras's names).
"""

from ..train import callbacks
from . import losses
from .model import Input, Model, Sequential

__all__ = ["Model", "Sequential", "Input", "losses", "callbacks"]
