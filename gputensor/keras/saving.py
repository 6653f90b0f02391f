"""Weight files: Keras 3 ``.weights.h5``, the legacy Keras ``.h5`` layout, and ``.npz``.

Keras 3 (``model.save_weights("m.weights.h5")``) keys each layer by its class name in snake
case with a per-class counter in ``model.layers`` order (``layers/dense``, ``layers/dense_1``,
...; not by the layer's own name), nesting models (``layers/<key>/layers/...``), each holding
its own variables as ``vars/0``, ``vars/1``, ... in ``layer.weights`` order, and the layer's name
in the ``vars`` group's ``name`` attribute. The legacy layout (Keras 2's ``save_weights`` to
``.h5``, and the ``model_weights`` group of a legacy whole-model ``.h5``) has a group per layer
*name* whose ``weight_names`` attribute lists its datasets in order. ``.npz`` holds the Keras 3
keys as array names. So weights move between real Keras and gputensor for the same
architecture.

Writes go to a temporary file in the target's folder, renamed into place at the end: a failed
save never leaves a half-written file where a good one was. h5py is imported when an ``.h5``
file is read or written (``pip install h5py``, in the ``keras`` extra).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from gputensor.errors import DataLossError
from gputensor.keras.serialization import to_snake_case
from gputensor.keras.variables import path_of


def _sublayers(layer: Any) -> list:
    return list(getattr(layer, "layers", None) or [])


def _named_children(layer: Any) -> dict:
    """Sublayers Keras 3 keys by attribute name (a recurrent layer's ``cell``: ``layers/lstm/cell/vars``)."""
    children = getattr(layer, "_keras_saving_children", None)
    return dict(children()) if callable(children) else {}


def _own_weights(layer: Any) -> list:
    """The layer's variables that no sublayer holds, in ``layer.weights`` order."""
    subs = _sublayers(layer) + list(_named_children(layer).values())
    inner = {id(w) for sub in subs for w in sub.weights}
    return [w for w in layer.weights if id(w) not in inner]


def keras3_entries(model: Any, prefix: str = "") -> Iterator[tuple[str, str, list]]:
    """``(group path, layer name, own variables)`` for the model and every nested layer."""
    yield prefix + "vars", getattr(model, "name", ""), _own_weights(model)
    counts: dict[str, int] = {}
    for layer in _sublayers(model):
        base = to_snake_case(type(layer).__name__).lstrip("_") or "layer"
        n = counts.get(base, 0)
        counts[base] = n + 1
        key = base if n == 0 else f"{base}_{n}"
        yield from keras3_entries(layer, f"{prefix}layers/{key}/")
    for attr, child in _named_children(model).items():
        yield from keras3_entries(child, f"{prefix}{attr}/")


def _atomic_path(path: str) -> tuple[str, Any]:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.basename(path), dir=folder)
    os.close(fd)
    return tmp, folder


def _commit(tmp: str, path: str) -> None:
    os.replace(tmp, path)


def _h5py() -> Any:
    try:
        import h5py
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading or writing .h5 weight files needs h5py: pip install h5py") from exc
    return h5py


def save_weights(model: Any, filepath: str, overwrite: bool = True) -> None:
    """Writes ``model``'s weights to ``filepath`` (``.weights.h5``, ``.h5``/``.hdf5`` or ``.npz``)."""
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save_weights: {path} exists and overwrite=False")
    kind = _kind(path, "save_weights")
    tmp, _ = _atomic_path(path)
    try:
        if kind == "npz":
            arrays = {
                f"{group}/{i}": w.numpy() for group, _, ws in keras3_entries(model) for i, w in enumerate(ws)
            }
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        else:
            h5py = _h5py()
            with h5py.File(tmp, "w") as f:
                if kind == "keras3":
                    for group, name, ws in keras3_entries(model):
                        g = f.require_group(group)
                        g.attrs["name"] = name
                        for i, w in enumerate(ws):
                            g.create_dataset(str(i), data=w.numpy())
                else:
                    _write_legacy(f, model)
        _commit(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _weight_name(model: Any, layer: Any, w: Any) -> str:
    short = getattr(w, "name", "var").split("/")[-1].split(":")[0]
    return f"{getattr(model, 'name', 'model')}/{layer.name}/{short}"


def _write_legacy(f: Any, model: Any) -> None:
    layers = _sublayers(model)
    f.attrs["layer_names"] = np.array([layer.name.encode() for layer in layers], dtype="S")
    f.attrs["backend"] = b"gputensor"
    f.attrs["keras_version"] = b"3"
    for layer in layers:
        g = f.create_group(layer.name)
        names = [_weight_name(model, layer, w) for w in layer.weights]
        g.attrs["weight_names"] = np.array([n.encode() for n in names], dtype="S")
        for n, w in zip(names, layer.weights):
            g.create_dataset(n, data=w.numpy())


def _kind(path: str, who: str) -> str:
    if path.endswith(".weights.h5"):
        return "keras3"
    if path.endswith((".h5", ".hdf5", ".keras_weights")):
        return "legacy"
    if path.endswith(".npz"):
        return "npz"
    raise ValueError(
        f"{who}: {path!r}: the file name must end in .weights.h5 (Keras 3), .h5 (legacy) or .npz"
    )


def load_weights(model: Any, filepath: str, skip_mismatch: bool = False) -> None:
    """Reads weights written by `save_weights` or by Keras into ``model`` (same architecture).

    Raises:
      ValueError: the file's layers or shapes do not match the model's (named), or a bad name.
      gt.errors.DataLossError: the file is truncated or not a weight file.
    """
    path = os.fspath(filepath)
    kind = _kind(path, "load_weights")
    if not os.path.exists(path):
        raise FileNotFoundError(f"load_weights: no file at {path}")
    try:
        if kind == "npz":
            with np.load(path) as data:
                _load_keras3(model, {k: data[k] for k in data.files}, path, skip_mismatch)
            return
        h5py = _h5py()
        with h5py.File(path, "r") as f:
            if "layers" in f or "vars" in f:
                flat = {}
                f.visititems(
                    lambda name, obj: (
                        flat.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None
                    )
                )
                _load_keras3(model, flat, path, skip_mismatch)
            else:
                _load_legacy(model, f["model_weights"] if "model_weights" in f else f, path, skip_mismatch)
    except (OSError, KeyError, EOFError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        raise DataLossError(f"load_weights: {path} is not a readable weight file ({exc})") from exc
    except Exception as exc:
        if type(exc).__name__ in ("BadZipFile",):
            raise DataLossError(f"load_weights: {path} is not a readable weight file ({exc})") from exc
        raise


def _assign_all(pairs: list, path: str, skip_mismatch: bool) -> None:
    # Every shape is checked before any variable changes: a mismatch leaves the model as it was.
    ok = []
    for where, var, value in pairs:
        if tuple(var.shape) != tuple(np.shape(value)):
            if skip_mismatch:
                continue
            raise ValueError(
                f"load_weights: {where} in {path} has shape {tuple(np.shape(value))} but the model's "
                f"variable {path_of(var)} has shape {tuple(var.shape)}: the file was written "
                "for another architecture"
            )
        ok.append((var, value))
    for var, value in ok:
        var.assign(np.asarray(value, dtype=var.dtype.as_numpy_dtype))


def _load_keras3(model: Any, flat: dict, path: str, skip_mismatch: bool) -> None:
    pairs = []
    expected = set()
    for group, name, ws in keras3_entries(model):
        for i, w in enumerate(ws):
            key = f"{group}/{i}"
            expected.add(key)
            if key not in flat:
                if skip_mismatch:
                    continue
                raise ValueError(
                    f"load_weights: {path} has no {key} for layer {name!r} (variable {path_of(w)}); "
                    "the file was written for another architecture"
                )
            pairs.append((f"{key} (layer {name!r})", w, flat[key]))
    # Keras saves its random layers' seed-generator state (gputensor's Dropout keeps its own),
    # and a .keras archive's weights hold the optimizer's (`_load_optimizer_variables`).
    extra = sorted(
        k for k in flat if k not in expected and "seed_generator" not in k and not k.startswith("optimizer/")
    )
    if extra and not skip_mismatch:
        raise ValueError(
            f"load_weights: {path} holds weights the model has no place for ({', '.join(extra[:5])}"
            f"{', ...' if len(extra) > 5 else ''}): the file was written for another architecture"
        )
    _assign_all(pairs, path, skip_mismatch)


def _load_legacy(model: Any, group: Any, path: str, skip_mismatch: bool) -> None:
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in group.attrs.get("layer_names", [])]
    with_weights = [n for n in names if len(group[n].attrs.get("weight_names", [])) > 0]
    layers = [layer for layer in _sublayers(model) if layer.weights]
    if len(with_weights) != len(layers) and not skip_mismatch:
        raise ValueError(
            f"load_weights: {path} has weights for {len(with_weights)} layers ({', '.join(with_weights)}) "
            f"but the model has {len(layers)} layers with weights ({', '.join(layer.name for layer in layers)})"
        )
    pairs = []
    for name, layer in zip(with_weights, layers):
        g = group[name]
        wnames = [n.decode() if isinstance(n, bytes) else str(n) for n in g.attrs["weight_names"]]
        if len(wnames) != len(layer.weights):
            if skip_mismatch:
                continue
            raise ValueError(
                f"load_weights: layer {name!r} of {path} has {len(wnames)} weights, the model's "
                f"{layer.name!r} has {len(layer.weights)}"
            )
        pairs += [(f"{name}/{wn}", w, g[wn][()]) for wn, w in zip(wnames, layer.weights)]
    _assign_all(pairs, path, skip_mismatch)


# ------------------------------------------------------------------ whole models
def save_model(model: Any, filepath: str, overwrite: bool = True) -> None:
    """Writes a ``.keras`` archive as Keras 3 lays it out: ``config.json`` (the model's config and
    its compile arguments), ``metadata.json`` and ``model.weights.h5``; atomically."""
    import datetime
    import json
    import zipfile

    from gputensor.keras import layers

    path = os.fspath(filepath)
    if not path.endswith(".keras"):
        raise ValueError(
            f"save: {path!r}: a whole model is saved as a .keras archive; use save_weights for .weights.h5/.h5/.npz"
        )
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"save: {path} exists and overwrite=False")
    config = layers.serialize(model)
    config["compile_config"] = (
        getattr(model, "_compile_config", None) if getattr(model, "compiled", False) else None
    )
    tmp, folder = _atomic_path(path)
    weights_fd, weights_tmp = tempfile.mkstemp(suffix=".weights.h5", dir=folder)
    os.close(weights_fd)
    try:
        save_weights(model, weights_tmp)
        _save_optimizer_variables(model, weights_tmp)
        with zipfile.ZipFile(tmp, "w") as z:
            z.writestr("config.json", json.dumps(config))
            z.writestr(
                "metadata.json",
                json.dumps(
                    {"keras_version": "3 (gputensor)", "date_saved": datetime.datetime.now().isoformat()}
                ),
            )
            z.write(weights_tmp, "model.weights.h5")
        _commit(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    finally:
        os.remove(weights_tmp)


def load_model(
    filepath: str, custom_objects: dict | None = None, compile: bool = True, safe_mode: bool = True
) -> Any:
    """The model saved by `save_model`, with its weights, compiled again when it was compiled.

    ``safe_mode=False`` allows `Lambda` layers whose function is a saved Python lambda
    (bytecode from the file runs: only for trusted files), as Keras 3.

    Raises:
      gt.errors.DataLossError: not a readable ``.keras`` archive.
      ValueError: an unknown layer class (pass it in ``custom_objects``), or a Python lambda
        in safe mode.
    """
    import json
    import zipfile

    from gputensor.keras import layers

    path = os.fspath(filepath)
    try:
        with zipfile.ZipFile(path) as z:
            config = json.loads(z.read("config.json"))
            weights = z.read("model.weights.h5")
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise DataLossError(f"load_model: {path} is not a readable .keras archive ({exc})") from exc
    compile_config = config.pop("compile_config", None)
    from gputensor.keras.layers.core_extra import safe_mode_scope

    with safe_mode_scope(safe_mode):
        model = layers.deserialize(config, custom_objects)
    fd, tmp = tempfile.mkstemp(suffix=".weights.h5")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(weights)
        load_weights(model, tmp)
        if compile and compile_config:
            _compile_from_config(model, compile_config, custom_objects)
            _load_optimizer_variables(model, tmp)
    finally:
        os.remove(tmp)
    return model


def _save_optimizer_variables(model: Any, h5_path: str) -> None:
    """The built optimizer's variables as Keras 3 stores them: ``optimizer/vars/0..n`` in its
    ``variables`` order (iterations, learning rate, then each weight's slots), which ours keeps."""
    optimizer = getattr(model, "optimizer", None) if getattr(model, "compiled", False) else None
    variables = list(getattr(optimizer, "variables", None) or ())
    if not variables:
        return
    with _h5py().File(h5_path, "a") as f:
        top = f.create_group("optimizer")
        group = top.create_group("vars")
        for i, v in enumerate(variables):
            group.create_dataset(str(i), data=np.asarray(v.numpy()))
        inner = getattr(optimizer, "inner_optimizer", None)
        if inner is not None:
            # Keras 3 also writes a LossScaleOptimizer's inner optimizer as its own child
            # (its vars are the tail of optimizer/vars); reading takes optimizer/vars.
            sub = top.create_group("inner_optimizer").create_group("vars")
            for i, v in enumerate(inner.variables):
                sub.create_dataset(str(i), data=np.asarray(v.numpy()))


def _load_optimizer_variables(model: Any, h5_path: str) -> None:
    """Restores `_save_optimizer_variables`' values into the compiled model's optimizer (built
    for the model's trainable variables first); a count that differs is skipped with a
    warning, as Keras does."""
    with _h5py().File(h5_path, "r") as f:
        if "optimizer/vars" not in f:
            return
        group = f["optimizer/vars"]
        saved = [group[str(i)][()] for i in range(len(group))]
    optimizer = model.optimizer
    build = getattr(optimizer, "build", None)
    if build is not None:
        build(model.trainable_variables)
    variables = list(optimizer.variables)
    if len(variables) != len(saved) or any(tuple(v.shape) != np.shape(a) for v, a in zip(variables, saved)):
        import warnings

        warnings.warn(
            f"load_model: skipping the optimizer's state: it has {len(variables)} variables, the file "
            f"{len(saved)} (another optimizer or architecture)",
            stacklevel=3,
        )
        return
    for v, a in zip(variables, saved):
        v.assign(np.asarray(a, dtype=v.dtype.as_numpy_dtype))


def _compile_from_config(model: Any, compile_config: dict, custom_objects: dict | None) -> None:
    """Compiles a loaded model with its saved compile arguments (losses, metrics and the optimizer by config)."""
    from gputensor.keras import losses, metrics, optimizers

    optimizer = compile_config["optimizer"]
    loss = compile_config["loss"]
    model.compile(
        optimizer=optimizer
        if isinstance(optimizer, str)
        else optimizers.deserialize(optimizer, custom_objects),
        loss=loss if isinstance(loss, str) or loss is None else losses.deserialize(loss, custom_objects),
        metrics=[  # Keras writes null when compiled without metrics
            m if isinstance(m, str) else metrics.deserialize(m, custom_objects)
            for m in compile_config.get("metrics") or ()
        ],
    )
