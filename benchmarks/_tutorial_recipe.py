"""The TensorFlow transfer-learning tutorial's recipe, as ``benchmarks/vs_tutorial.py``
runs it against ``tltune`` (see that script's docstring for the recipe and the protocol):
its model, its two training phases, and one side's result."""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

BATCH_SIZE = 32
HEAD_EPOCHS = 10
FINE_TUNE_EPOCHS = 10
BASE_LR = 1e-4
FINE_TUNE_AT = 100
DROPOUT = 0.2


@dataclass
class SideResult:
    """One side's per-image correctness on the test images and its wall time."""

    correct: np.ndarray
    seconds: float
    info: dict = field(default_factory=dict)


def recipe_model(n_classes: int, size: int, weights):
    """The tutorial's model: (model, base)."""
    import keras
    from keras.applications.mobilenet_v2 import preprocess_input

    from advisor.backbones import build_backbone, get_backbone

    base = build_backbone(get_backbone("mobilenet_v2"), size, weights)
    base.trainable = False
    augment = keras.Sequential([keras.layers.RandomFlip("horizontal"),
                                keras.layers.RandomRotation(0.2)], name="data_augmentation")
    inputs = keras.Input((size, size, 3))
    x = augment(inputs)
    x = preprocess_input(x)
    x = base(x, training=False)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dropout(DROPOUT)(x)
    outputs = keras.layers.Dense(n_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs), base


def run_recipe(path: Path, a: argparse.Namespace, framing: str) -> tuple[SideResult, object]:
    """Decode the images as tltune did, train the tutorial's recipe on all of
    ``train/`` (tltune's train + val), predict the test images once."""
    import keras
    import tensorflow as tf

    from advisor.backbones import get_backbone, resolve_weights
    from tuner.data import prepare_data

    t = time.perf_counter()
    data = prepare_data(path, input_size=a.size, test_split="val", seed=a.seed,
                        max_images=a.max_images, framing=framing)
    decode_s = time.perf_counter() - t
    x = (data.x_train + data.x_val).read()
    y = np.concatenate([data.y_train, data.y_val]).astype("int32")
    keras.backend.clear_session()
    keras.utils.set_random_seed(a.seed)
    ds = (tf.data.Dataset.from_tensor_slices((x, y))
          .shuffle(len(y), seed=a.seed, reshuffle_each_iteration=True)
          .batch(BATCH_SIZE).map(lambda im, lab: (tf.cast(im, tf.float32), lab))
          .prefetch(tf.data.AUTOTUNE))
    model, base = recipe_model(data.n_classes, a.size,
                               resolve_weights(get_backbone("mobilenet_v2"), a.weights))
    loss = keras.losses.SparseCategoricalCrossentropy()
    model.compile(optimizer=keras.optimizers.Adam(BASE_LR), loss=loss, metrics=["accuracy"])
    h1 = model.fit(ds, epochs=a.head_epochs, shuffle=False, verbose=0)  # ds shuffles
    head_s = time.perf_counter() - t - decode_s
    base.trainable = True
    for layer in base.layers[:FINE_TUNE_AT]:
        layer.trainable = False
    model.compile(optimizer=keras.optimizers.RMSprop(BASE_LR / 10), loss=loss,
                  metrics=["accuracy"])
    h2 = model.fit(ds, epochs=a.head_epochs + a.fine_tune_epochs,
                   initial_epoch=len(h1.epoch), shuffle=False, verbose=0)
    probs = model.predict(data.x_test.read().astype("float32"), batch_size=64, verbose=0)
    seconds = time.perf_counter() - t
    pred = probs.argmax(axis=1)
    correct = (pred == data.y_test).astype(float)
    hist = {k: [round(float(v), 4) for v in h1.history[k] + h2.history[k]] for k in h1.history}
    info = {"decode_s": round(decode_s, 1), "head_s": round(head_s, 1),
            "n_train": len(y), "fine_tune_layers": sum(l.trainable for l in base.layers),
            "n_base_layers": len(base.layers), "history": hist,
            "predicted": [data.classes[i] for i in pred]}
    keras.backend.clear_session()
    return SideResult(correct, seconds, info), data
