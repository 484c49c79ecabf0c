"""Transformer layers on token sequences: `patchify`, `classtoken`, `posembed`, `attention`, `selecttoken`.

A token sequence is a shape [D, L]: D features for each of L tokens (cnncalc's `Tokens`), so a per-token
`fc` is a 1×1 convolution and the existing arithmetic carries it. Patchify makes tokens from an image;
the other kinds here need tokens, and image kinds (pools, upsample, ...) refuse them.
"""

from __future__ import annotations

from typing import Any, Mapping

from .base import (BOOL, COUNT, EAGER, FUSED, INPUT, SIZE, Computed, LayerContext, LayerFailure, LayerKind, Param, Saved,
                   Scratch, Tokens, Window, compact, is_tokens, per_dim, prod_int, refuse_tokens, shape_words,
                   spatial_text)


def require_tokens(kind: str, input_shape: tuple[int, ...]) -> Tokens:
    """The input as tokens, or a failure that says a token sequence [D, L] was expected and what came."""
    if not is_tokens(input_shape):
        raise LayerFailure(f"{kind} expects a token sequence [D, L] (features, tokens), but its input is "
                           f"{shape_words(input_shape)}; make tokens first with patchify")
    return input_shape  # type: ignore[return-value]


class TokenKind(LayerKind):
    """A kind that takes a token sequence [D, L] only (made by patchify): never an image."""

    dims = ()  # tokens only: not in the every-kind image specs
    keeps_input = False

    def on_tokens(self, params: Mapping[str, Any], tokens: Tokens, ctx: LayerContext) -> Computed:
        raise NotImplementedError

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        return self.on_tokens(params, require_tokens(self.name, input_shape), ctx)


class Patchify(LayerKind):
    name = "patchify"
    category = "conv"
    main_param = "dim"
    summary = ("Cuts the image into patches and embeds each (ViT): a conv with kernel = stride = patch, whose "
               "spatial positions become the L tokens.")
    params = (
        Param("dim", COUNT, description="features D per token (the conv's filters)"),
        Param("patch", SIZE, description="patch size P, one int or one per spatial dim; must divide the image"),
        Param("bias", BOOL, True, "one bias per feature"),
    )
    shape_rule = "C×H×W → [D, L] with L = (H/P)·(W/P) tokens; P must divide every spatial size"
    param_rule = "weights = (P_h·P_w·C)·D; biases = D"
    mac_rule = "D·L·C·P_h·P_w"
    saved_rule = "its input (as a conv)"

    def compute(self, params: Mapping[str, Any], input_shape: tuple[int, ...], ctx: LayerContext) -> Computed:
        refuse_tokens(self.name, input_shape)
        if len(input_shape) < 2:
            raise LayerFailure(f"patchify expects an image volume C×H×W, but its input is {shape_words(input_shape)}")
        channels, spatial = input_shape[0], input_shape[1:]
        patch = per_dim(params["patch"], len(spatial), "patch")
        for n, p in zip(spatial, patch):
            if n % p:
                raise LayerFailure(f"patch {p} does not divide the size {n}: {n}/{p} = {n / p:.4g} patches; "
                                   f"use a patch that divides {n}, or resize the input", "patch")
        grid = tuple(n // p for n, p in zip(spatial, patch))
        dim, tokens = params["dim"], prod_int(grid)
        fan_in = patch + (channels,)
        return Computed(
            output_shape=Tokens((dim, tokens), grid),
            description=f"patchify {spatial_text(patch)}, {dim}",
            weight_count=prod_int(fan_in) * dim,
            bias_count=dim if params["bias"] else 0,
            macs=dim * tokens * channels * prod_int(patch),
            fan_in=fan_in,
            fan_out=dim,
            windows=tuple(Window(p, p, 0) for p in patch),
            notes=(f"{spatial_text(grid)} patches of {spatial_text(patch)} = {tokens} tokens",),
        )


class ClassToken(TokenKind):
    name = "classtoken"
    category = "embedding"
    auto_prefix = "cls"
    summary = "Prepends one learnt token (ViT's class token): [D, L] → [D, L + 1]."
    shape_rule = "[D, L] → [D, L + 1]"
    param_rule = "weights = D"
    saved_rule = "nothing (the gradient is split by position)"

    def on_tokens(self, params: Mapping[str, Any], tokens: Tokens, ctx: LayerContext) -> Computed:
        dim, length = tokens
        return Computed(output_shape=tokens.like((dim, length + 1)), description="class token",
                        weight_count=dim, fan_out=dim)


class PositionEmbedding(TokenKind):
    name = "posembed"
    category = "embedding"
    auto_prefix = "pos"
    summary = "Adds a learnt position embedding, one D-vector per token (ViT)."
    shape_rule = "output = input [D, L]"
    param_rule = "weights = D·L"
    saved_rule = "nothing (an addition)"

    def on_tokens(self, params: Mapping[str, Any], tokens: Tokens, ctx: LayerContext) -> Computed:
        dim, length = tokens
        return Computed(output_shape=tokens, description=f"position embedding {length}×{dim}",
                        weight_count=dim * length, fan_out=dim)


class Attention(TokenKind):
    name = "attention"
    category = "attention"
    auto_prefix = "attn"
    main_param = "heads"
    summary = ("Multi-head self-attention (nn.MultiheadAttention): Q, K, V projections, softmax(Q·Kᵀ/√d)·V per "
               "head, an output projection. Every token sees every token.")
    params = (
        Param("heads", COUNT, description="attention heads; must divide dim"),
        Param("dim", COUNT, None, "width of Q, K and V (default: D, the input's features)"),
        Param("bias", BOOL, True, "biases in the four projections"),
    )
    shape_rule = "output = input [D, L]; receptive field: the whole input (every token sees every token)"
    param_rule = "weights = 4·D·dim (Q, K, V, output projections); biases = 3·dim + D; 4·D² + 4·D when dim = D"
    mac_rule = ("4·L·D·dim (the projections) + 2·L²·dim (Q·Kᵀ and A·V); the softmax and the 1/√d scaling are not "
                "MACs")
    saved_rule = ("its input, Q, K and V (dim·L each), the attention probabilities (heads·L², eager only), the "
                  "context (dim·L) and, fused, the log-sum-exp (heads·L, float32)")

    def _dim(self, params: Mapping[str, Any], features: int) -> int:
        return params["dim"] if params["dim"] is not None else features

    def on_tokens(self, params: Mapping[str, Any], tokens: Tokens, ctx: LayerContext) -> Computed:
        features, length = tokens
        heads, dim = params["heads"], self._dim(params, features)
        if dim % heads:
            raise LayerFailure(f"heads {heads} must divide dim {dim} (each head gets dim/heads features)", "heads")
        bias = params["bias"]
        windows = None if tokens.mixed else tuple(Window(g, 1, 0) for g in tokens.grid)
        description = f"attention {heads} heads" + (f", dim {dim}" if dim != features else "")
        if not bias:
            description += ", no bias"
        return Computed(
            output_shape=tokens.like(tuple(tokens), mixed=True),
            description=description,
            weight_count=4 * features * dim,
            bias_count=3 * dim + features if bias else 0,
            macs=4 * length * features * dim + 2 * length * length * dim,
            fan_in=(features,),
            fan_out=4 * dim,
            windows=windows,
            notes=(f"{heads} heads of {dim // heads}: Q·Kᵀ and A·V {length}²·{dim} MACs each; "
                   "receptive field: the whole input",),
        )

    def forward_scratch(self, params: Mapping[str, Any], input_shape: tuple[int, ...], output_shape: tuple[int, ...],
                        value_bytes: int, attention: str = EAGER) -> Scratch | None:
        """While the output projection runs, the forward still holds Q, K, V and the context (dim·L each) and,
        eager, the scores and their softmax (heads·L² each): 4·dim·L (+ 2·heads·L²) values."""
        features, length = input_shape
        dim, heads = self._dim(params, features), params["heads"]
        if attention == EAGER:
            return Scratch("Q, K, V, scores, probabilities, context", (4 * dim * length + 2 * heads * length * length)
                           * value_bytes)
        return Scratch("Q, K, V, context", 4 * dim * length * value_bytes)

    def saved_for_backward(self, params: Mapping[str, Any], input_shape: tuple[int, ...],
                           output_shape: tuple[int, ...], value_bytes: int) -> tuple[Saved, ...]:
        """Eager (softmax(Q·Kᵀ/√d) then ·V, as nn.MultiheadAttention trains): the probabilities, heads·L² per
        sample, are kept by the softmax and by A·V. Fused kernels (flash, memory-efficient) keep the log-sum-exp
        of each row instead and recompute the probabilities in backward."""
        features, length = input_shape
        dim, heads = self._dim(params, features), params["heads"]
        return (
            Saved(INPUT, features * length, value_bytes),
            Saved("Q", dim * length, value_bytes),
            Saved("K", dim * length, value_bytes),
            Saved("V", dim * length, value_bytes),
            Saved("attention probabilities", heads * length * length, value_bytes, implementation=EAGER),
            Saved("log-sum-exp", heads * length, 4, implementation=FUSED),
            Saved("context", dim * length, value_bytes),
        )


class SelectToken(TokenKind):
    name = "selecttoken"
    category = "reshape"
    auto_prefix = "select"
    in_place = True
    view = True
    summary = "Keeps token 0 (the class token) as a vector for the classifier head; a view."
    shape_rule = "[D, L] → D"
    saved_rule = "nothing (a view)"

    def on_tokens(self, params: Mapping[str, Any], tokens: Tokens, ctx: LayerContext) -> Computed:
        return Computed(output_shape=(tokens[0],), description="token 0")


def per_token_conv_check(params: Mapping[str, Any], tokens: Tokens, k: tuple[int, ...], s: tuple[int, ...],
                         d: tuple[int, ...]) -> None:
    """A conv on tokens must be 1×1, stride 1, no padding: a per-token fc (a transformer's MLP)."""
    if k != (1,) or s != (1,) or d != (1,) or params["padding"] not in (0, (0,), "valid", "same"):
        raise LayerFailure(f"a conv on a token sequence {tokens[0]}×{tokens[1]} (features, tokens) must be a per-token "
                           f"map: kernel 1, stride 1, no padding (here kernel {compact(k)}, stride {compact(s)}); "
                           "tokens have no spatial neighbours", "kernel")


KINDS = (Patchify(), ClassToken(), PositionEmbedding(), Attention(), SelectToken())
