"""Caffe prototxt (NetParameter in text form) → ImportedNetwork.

Both styles are read: `layer { type: "Convolution" ... }` and the old `layers { type: CONVOLUTION ... }`;
the input from `input:` with `input_dim:` or `input_shape { dim: ... }`, or an `Input` layer. Blobs are
tracked by name, so an in-place layer (top = bottom) replaces its blob. Caffe's rounding is kept exactly:
convolutions floor (`round: floor` where a size does not divide), pooling rounds up and clips the last
window only when there is padding (cnncalc's `ceil_mode: true`; a layer where the two rules differ is an
error that says so). BatchNorm followed by Scale is one `batchnorm` (Scale carries the learnable γ and β).
"""

from __future__ import annotations

from typing import Any

from ..kinds import REGISTRY
from ..problems import NOTE, Location, Problem, SpecError
from ..spec import INPUT_NAME
from .network import ImportedNetwork, NetworkBuilder
from .prototxt import Entry, Message, parse

# The old (V1) layer type names, as Caffe's upgrade maps them.
V1_TYPES = {
    "CONCAT": "Concat", "CONVOLUTION": "Convolution", "DATA": "Data", "DECONVOLUTION": "Deconvolution",
    "DROPOUT": "Dropout", "ELTWISE": "Eltwise", "FLATTEN": "Flatten", "IMAGE_DATA": "ImageData",
    "INNER_PRODUCT": "InnerProduct", "LRN": "LRN", "MEMORY_DATA": "MemoryData", "POOLING": "Pooling",
    "RELU": "ReLU", "SIGMOID": "Sigmoid", "SOFTMAX": "Softmax", "SOFTMAX_LOSS": "SoftmaxWithLoss",
    "SPLIT": "Split", "TANH": "TanH", "ACCURACY": "Accuracy", "DUMMY_DATA": "DummyData", "HDF5_DATA": "HDF5Data",
    "WINDOW_DATA": "WindowData", "SILENCE": "Silence", "POWER": "Power", "ABSVAL": "AbsVal", "BNLL": "BNLL",
    "EXP": "Exp", "SLICE": "Slice", "THRESHOLD": "Threshold", "ARGMAX": "ArgMax", "MVN": "MVN",
}
_DATA_TYPES = frozenset({"Data", "ImageData", "HDF5Data", "MemoryData", "DummyData", "WindowData", "Python"})
_SKIPPED = frozenset({"Accuracy", "Silence"})  # evaluation, not the network
_TRANSLATED = frozenset({"Convolution", "Deconvolution", "Pooling", "InnerProduct", "ReLU", "Sigmoid", "TanH", "Softmax",
                         "Flatten", "PReLU", "ReLU6", "LRN", "Dropout", "BatchNorm", "Eltwise", "Concat", "Split"})

# For the documentation: every Caffe layer type the reader translates, and the kind it becomes.
LAYER_TYPES = {
    "Convolution": "conv", "Deconvolution": "deconv", "Pooling (MAX, AVE)": "maxpool, avgpool",
    "Pooling (global_pooling)": "globalmaxpool, globalavgpool", "InnerProduct": "fc",
    "ReLU": "relu (leakyrelu with negative_slope)", "PReLU": "prelu", "Sigmoid": "sigmoid", "TanH": "tanh",
    "LRN": "lrn", "Dropout": "dropout", "BatchNorm + Scale": "batchnorm", "BatchNorm alone": "batchnorm (affine: false)",
    "Eltwise (SUM)": "add", "Eltwise (PROD)": "mul", "Concat": "concat", "Softmax": "softmax", "Flatten": "flatten",
    "Split": "(the blob, shared)", "Input, input: + input_dim / input_shape": "the spec's input",
}


class _Unsupported(Exception):
    def __init__(self, reason: str, location: Location | None = None):
        super().__init__(reason)
        self.reason = reason
        self.location = location


def _value(entry: Entry | None, default: Any = None) -> Any:
    """A scalar entry's value: an int, a float, a bool, an identifier or a string."""
    if entry is None:
        return default
    value = entry.value
    if isinstance(value, Message):
        raise _Unsupported(f"'{entry.name}' should be a single value, not a message", entry.location)
    if value.kind == "number":
        text = value.text.rstrip("fF")
        try:
            return int(text)
        except ValueError:
            return float(text)
    if value.kind == "ident" and value.text in ("true", "false", "True", "False"):
        return value.text.lower() == "true"
    return value.text


def _count(entry: Entry | None, default: int | None = None, minimum: int = 0) -> int | None:
    value = _value(entry, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        bound = "a positive whole number" if minimum else "a whole number, zero or more"
        raise _Unsupported(f"'{entry.name}' must be {bound}, not {value!r}", entry.location if entry else None)
    return value


def _message(layer: Message, name: str) -> Message:
    entry = layer.first(name)
    if entry is None:
        return Message([], layer.location)
    if not isinstance(entry.value, Message):
        raise _Unsupported(f"'{name}' should be a message {{ ... }}", entry.location)
    return entry.value


def _sizes(param: Message, name: str, h: str, w: str, default: int | None, minimum: int) -> tuple[int, ...] | None:
    """Caffe's size fields: repeated `name` (one for every dim, or one per dim), or `name_h` and `name_w`."""
    if param.first(h) is not None or param.first(w) is not None:
        return (_count(param.first(h), default, minimum), _count(param.first(w), default, minimum))  # type: ignore
    values = [_count(e, None, minimum) for e in param.all(name)]
    if not values:
        return None if default is None else (default,)
    return tuple(values)  # type: ignore[arg-type]


def _per_dim(values: tuple[int, ...], ndim: int, name: str, where: Location) -> tuple[int, ...]:
    if len(values) == 1:
        return values * ndim
    if len(values) != ndim:
        raise _Unsupported(f"'{name}' has {len(values)} values for {ndim} spatial dims", where)
    return values


def _compact(values: tuple[int, ...]) -> int | tuple[int, ...]:
    return values[0] if len(set(values)) == 1 else tuple(values)


class CaffeReader:
    def __init__(self, root: Message, source: str, input_shape: tuple[int, ...] | None):
        self.root = root
        self.source = source
        self.override = input_shape
        self.blobs: dict[str, str] = {}  # blob name → the layer that last wrote it
        self.unread: set[str] = set()  # blobs made by layers cnncalc could not translate
        self.notes: list[Problem] = []
        self.unknown: dict[str, list[tuple[str, Location]]] = {}
        self.builder: NetworkBuilder | None = None

    def start(self, name: str, shape: tuple[int, ...], where: Location) -> None:
        if self.builder is not None:
            raise SpecError([Problem(where, f"a second input '{name}'; cnncalc reads networks with one input")])
        if self.override is not None:
            shape = self.override
        if not 2 <= len(shape) <= 5:
            raise SpecError([Problem(where, f"the input '{name}' has shape {list(shape)}; cnncalc reads a batch, "
                                            "channels and 1 to 3 spatial sizes")])
        self.notes.append(Problem(where, f"the input '{name}' is {'×'.join(map(str, shape[1:]))} per sample: its batch "
                                         f"size {shape[0]} is the file's, and cnncalc computes per sample (--batch "
                                         "sets a batch)", NOTE))
        self.builder = NetworkBuilder(self.source, tuple(shape[1:]))
        self.blobs[name] = INPUT_NAME

    def net_input(self) -> None:
        root = self.root
        names = [_value(e) for e in root.all("input")]
        if not names:
            return
        entry = root.first("input")
        dims = [_count(e, minimum=1) for e in root.all("input_dim")]
        shapes = [s.value for s in root.all("input_shape") if isinstance(s.value, Message)]
        if shapes:
            dims = [_count(e, minimum=1) for e in shapes[0].all("dim")]
        if not dims and self.override is None:
            raise SpecError([Problem(entry.location, f"the input '{names[0]}' has no input_dim or input_shape; give "
                                                     "its shape with --input, e.g. --input 3x227x227")])
        shape = tuple(dims) if dims else (1,) + self.override  # type: ignore[operator]
        if self.override is not None:
            shape = (shape[0],) + self.override
        self.start(str(names[0]), shape, entry.location)  # type: ignore[arg-type]

    def run(self) -> ImportedNetwork:
        self.net_input()
        layers = self.root.all("layer") or self.root.all("layers")
        problems: list[Problem] = []
        consumers: dict[str, int] = {}
        for entry in layers:
            if isinstance(entry.value, Message):
                for bottom in entry.value.all("bottom"):
                    consumers[str(_value(bottom))] = consumers.get(str(_value(bottom)), 0) + 1
        skip_next: set[int] = set()
        for index, entry in enumerate(layers):
            if index in skip_next:
                continue
            try:
                if not isinstance(entry.value, Message):
                    raise _Unsupported(f"'{entry.name}' should be a message {{ ... }}", entry.location)
                following = layers[index + 1].value if index + 1 < len(layers) else None
                if self.layer(entry.value, following if isinstance(following, Message) else None):
                    skip_next.add(index + 1)
            except _Unsupported as unsupported:
                problems.append(Problem(unsupported.location or entry.location, unsupported.reason))
        if self.builder is None:
            raise SpecError(problems + [Problem(self.root.location, "the prototxt has no input: add 'input:' with "
                                                                    "'input_dim:', an Input layer, or give --input")])
        problems = self.builder.problems + problems
        for label, uses in sorted(self.unknown.items(), key=lambda item: -len(item[1])):
            problems.append(Problem(uses[0][1], f"unknown layer type {label}: {len(uses)} layer"
                                                f"{'s' if len(uses) != 1 else ''}, the first '{uses[0][0]}'; "
                                                "nothing is counted as zero"))
        if problems:
            raise SpecError(problems)
        name = str(_value(self.root.first("name"), "") or "")
        return ImportedNetwork(name or "network", self.source, self.builder.input_shape, tuple(self.builder.layers),
                               ("Caffe prototxt",), tuple(self.notes), self.root.location)

    # -- layers ----------------------------------------------------------------------------------
    def layer(self, layer: Message, following: Message | None) -> bool:
        """Translate one layer; True when it also took the layer after it (a Scale after a BatchNorm)."""
        kind = _value(layer.first("type"), "")
        kind = V1_TYPES.get(kind, kind)
        name = str(_value(layer.first("name"), "") or kind or "layer")
        where = layer.location
        for include in layer.all("include"):
            if isinstance(include.value, Message) and _value(include.value.first("phase")) == "TRAIN":
                return False
        bottoms = [str(_value(e)) for e in layer.all("bottom")]
        tops = [str(_value(e)) for e in layer.all("top")]
        if kind == "Input":
            param = _message(layer, "input_param")
            shapes = [s.value for s in param.all("shape") if isinstance(s.value, Message)]
            dims = tuple(_count(e, minimum=1) for e in shapes[0].all("dim")) if shapes else ()
            if not dims and self.override is None:
                raise _Unsupported(f"the Input layer '{name}' has no shape; give it with --input", where)
            self.start(tops[0] if tops else name, dims or (1,) + self.override, where)  # type: ignore[operator]
            return False
        if kind in _DATA_TYPES:
            if self.override is None:
                raise _Unsupported(f"the {kind} layer '{name}' does not say the shape of its data; give it with "
                                   "--input, e.g. --input 3x227x227", where)
            self.start(tops[0] if tops else name, (1,) + self.override, where)
            return False
        if kind in _SKIPPED or kind.endswith("Loss"):
            self.notes.append(Problem(where, f"{kind} layer '{name}' is left out: it is for training or evaluation, "
                                             "not part of the network", NOTE))
            return False
        if self.builder is None:
            raise _Unsupported(f"layer '{name}' comes before the network's input", where)
        if any(b in self.unread for b in bottoms):  # after an untranslated layer: reported only if unknown itself
            if kind not in _TRANSLATED:
                self.unknown.setdefault(kind or "(no type)", []).append((name, where))
            self.unread.update(tops)
            return False
        missing = [b for b in bottoms if b not in self.blobs]
        if missing:
            raise _Unsupported(f"layer '{name}' reads blob '{missing[0]}', which no layer above makes", where)
        inputs = tuple(self.blobs[b] for b in bottoms)
        if kind == "Split":
            for top in tops:
                self.blobs[top] = inputs[0]
            return False
        if not inputs:
            raise _Unsupported(f"layer '{name}' has no bottom", where)
        translated = self.translate(kind, layer, name, inputs, following, tops)
        if translated is None:
            self.unread.update(tops)
            return False
        kind_name, params, took_next = translated
        if kind_name not in REGISTRY:
            self.unknown.setdefault(f"{kind} (cnncalc has no '{kind_name}' kind yet)", []).append((name, where))
            self.unread.update(tops)
            return False
        added = self.builder.add(kind_name, params, inputs, name, where, kind)
        if added is not None:
            final_tops = tops
            if took_next and following is not None:
                final_tops = [str(_value(e)) for e in following.all("top")] or tops
            for top in tops + final_tops:
                self.blobs[top] = added
        else:
            self.unread.update(tops)
        return took_next

    def translate(self, kind: str, layer: Message, name: str, inputs: tuple[str, ...], following: Message | None,
                  tops: list[str]) -> tuple[str, dict[str, Any], bool] | None:
        assert self.builder is not None
        shape = self.builder.shape(inputs[0])
        ndim = len(shape) - 1
        where = layer.location
        if kind in ("Convolution", "Deconvolution"):
            param = _message(layer, "convolution_param")
            filters = _count(param.first("num_output"), None, 1)
            kernel = _sizes(param, "kernel_size", "kernel_h", "kernel_w", None, 1)
            if filters is None or kernel is None:
                raise _Unsupported(f"{kind} '{name}' needs num_output and kernel_size", where)
            kernel = _per_dim(kernel, ndim, "kernel_size", where)
            stride = _per_dim(_sizes(param, "stride", "stride_h", "stride_w", 1, 1), ndim, "stride", where)
            pad = _per_dim(_sizes(param, "pad", "pad_h", "pad_w", 0, 0), ndim, "pad", where)
            dilation = _per_dim(_sizes(param, "dilation", "", "", 1, 1), ndim, "dilation", where)
            params: dict[str, Any] = {"filters": filters, "kernel": _compact(kernel)}
            if any(s != 1 for s in stride):
                params["stride"] = _compact(stride)
            if any(pad):
                params["padding"] = _compact(pad)
            if any(d != 1 for d in dilation):
                params["dilation"] = _compact(dilation)
            group = _count(param.first("group"), 1, 1)
            if group != 1:
                params["groups"] = group
            params["bias"] = bool(_value(param.first("bias_term"), True))
            return ("conv" if kind == "Convolution" else "deconv"), params, False
        if kind == "Pooling":
            return self.pooling(layer, name, shape)
        if kind == "InnerProduct":
            param = _message(layer, "inner_product_param")
            units = _count(param.first("num_output"), None, 1)
            if units is None:
                raise _Unsupported(f"InnerProduct '{name}' needs num_output", where)
            if _value(param.first("axis"), 1) != 1:
                raise _Unsupported(f"InnerProduct '{name}' over an axis other than 1", where)
            return "fc", {"units": units, "bias": bool(_value(param.first("bias_term"), True))}, False
        if kind == "ReLU":
            slope = _value(_message(layer, "relu_param").first("negative_slope"), 0)
            return ("leakyrelu", {"negative_slope": float(slope)}, False) if slope else ("relu", {}, False)
        simple = {"Sigmoid": "sigmoid", "TanH": "tanh", "Softmax": "softmax", "Flatten": "flatten", "PReLU": "prelu",
                  "ReLU6": "relu6"}
        if kind in simple:
            return simple[kind], {}, False
        if kind == "LRN":
            param = _message(layer, "lrn_param")
            if _value(param.first("norm_region"), "ACROSS_CHANNELS") != "ACROSS_CHANNELS":
                self.unknown.setdefault("LRN (WITHIN_CHANNEL)", []).append((name, where))
                return None
            return "lrn", {"size": _count(param.first("local_size"), 5, 1),
                           "alpha": float(_value(param.first("alpha"), 1.0)),
                           "beta": float(_value(param.first("beta"), 0.75)),
                           "k": float(_value(param.first("k"), 1.0))}, False
        if kind == "Dropout":
            return "dropout", {"p": float(_value(_message(layer, "dropout_param").first("dropout_ratio"), 0.5))}, False
        if kind == "BatchNorm":
            scale = following is not None and V1_TYPES.get(str(_value(following.first("type"), "")),
                                                           _value(following.first("type"), "")) == "Scale" \
                and [str(_value(e)) for e in following.all("bottom")] == (tops or [name])[:1]
            params = {} if scale else {"affine": False}
            eps = _value(_message(layer, "batch_norm_param").first("eps"), 1e-5)
            if abs(float(eps) - 1e-5) > 1e-12:
                params["eps"] = float(eps)
            if scale and not _value(_message(following, "scale_param").first("bias_term"), False):
                self.unknown.setdefault("Scale without bias_term after BatchNorm", []).append((name, where))
                return None
            return "batchnorm", params, bool(scale)
        if kind == "Eltwise":
            operation = _value(_message(layer, "eltwise_param").first("operation"), "SUM")
            if operation in ("SUM", 1):
                return "add", {}, False
            if operation in ("PROD", 0):
                return "mul", {}, False
            self.unknown.setdefault(f"Eltwise ({operation})", []).append((name, where))
            return None
        if kind == "Concat":
            param = _message(layer, "concat_param")
            axis = _value(param.first("axis"), _value(param.first("concat_dim"), 1))
            if axis != 1:
                self.unknown.setdefault(f"Concat (axis {axis})", []).append((name, where))
                return None
            return "concat", {}, False
        self.unknown.setdefault(kind or "(no type)", []).append((name, where))
        return None

    def pooling(self, layer: Message, name: str, shape: tuple[int, ...]) -> tuple[str, dict[str, Any], bool] | None:
        """Caffe's pooling: out = ceil((N + 2P − F)/S) + 1 (FLOOR: floor), then one less when P > 0 and the last
        window would start at or past N + P; cnncalc's ceil_mode clips the same way, with or without padding."""
        param = _message(layer, "pooling_param")
        where = layer.location
        method = _value(param.first("pool"), "MAX")
        method = {0: "MAX", 1: "AVE"}.get(method, method)
        if method not in ("MAX", "AVE"):
            self.unknown.setdefault(f"Pooling ({method})", []).append((name, where))
            return None
        if _value(param.first("global_pooling"), False):
            return ("globalmaxpool" if method == "MAX" else "globalavgpool"), {}, False
        ndim = len(shape) - 1
        kernel = _sizes(param, "kernel_size", "kernel_h", "kernel_w", None, 1)
        if kernel is None:
            raise _Unsupported(f"Pooling '{name}' needs kernel_size (or global_pooling: true)", where)
        kernel = _per_dim(kernel, ndim, "kernel_size", where)
        stride = _per_dim(_sizes(param, "stride", "stride_h", "stride_w", 1, 1), ndim, "stride", where)
        pad = _per_dim(_sizes(param, "pad", "pad_h", "pad_w", 0, 0), ndim, "pad", where)
        ceil = _value(param.first("round_mode"), "CEIL") in ("CEIL", 0)
        caffe = []
        for n, k, s, p in zip(shape[1:], kernel, stride, pad):
            span = n + 2 * p - k
            out = (-(-span // s) if ceil else span // s) + 1
            if any(pad) and (out - 1) * s >= n + p:
                out -= 1
            caffe.append(out)
        params: dict[str, Any] = {"kernel": _compact(kernel), "stride": _compact(stride)}
        if any(pad):
            params["padding"] = _compact(pad)
        floors = [(n + 2 * p - k) // s + 1 for n, k, s, p in zip(shape[1:], kernel, stride, pad)]
        if ceil and floors != caffe:
            params["ceil_mode"] = True  # only where rounding up changes a size
        elif not ceil:
            params["round"] = "floor"
        ours = []
        for n, k, s, p in zip(shape[1:], kernel, stride, pad):
            span = n + 2 * p - k
            out = (-(-span // s) if ceil else span // s) + 1
            if ceil and (out - 1) * s >= n + p:
                out -= 1
            ours.append(out if params.get("ceil_mode") or not ceil else (n + 2 * p - k) // s + 1)
        if ours != caffe:
            raise _Unsupported(f"Pooling '{name}': Caffe's rounding gives {'×'.join(map(str, caffe))}, where cnncalc's "
                               f"ceil_mode (PyTorch's) gives {'×'.join(map(str, ours))}: without padding Caffe keeps a "
                               "last window that starts past the input; cnncalc cannot express that layer", where)
        return ("maxpool" if method == "MAX" else "avgpool"), params, False


def read_prototxt(data: bytes, source: str, input_shape: tuple[int, ...] | None = None) -> ImportedNetwork:
    """A Caffe prototxt's bytes → ImportedNetwork; raises SpecError, located by line and column."""
    from ..loader import decode

    root = parse(decode(data, source) if len(data) <= 8 * 1024 * 1024 else _decode_large(data, source), source)
    return CaffeReader(root, source, input_shape).run()


def _decode_large(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError([Problem(Location(source, line, 1), f"byte 0x{data[exc.start]:02x} is not UTF-8; a prototxt "
                                                            "is text")]) from None
