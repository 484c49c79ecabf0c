"""The helper classes an exported module defines for kinds torch.nn has no module for (the kinds of networks
after 2016): their Python source, emitted once before the network. Tokens are (N, D, L) throughout, so a
per-token linear map is a 1×1 convolution, with no copy of the tokens."""


TOKEN_LINEAR_HELPER = '''\
class TokenLinear(nn.Linear):
    """nn.Linear applied to each token of (N, D, L): the same map for every token (a transformer's MLP)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv1d(x, self.weight[:, :, None], self.bias)  # a 1×1 convolution over the tokens
'''


LAYER_NORM_HELPER = '''\
class ChannelLayerNorm(nn.LayerNorm):
    """nn.LayerNorm over dim 1, the channels: each pixel of (N, C, H, W) (ConvNeXt's LayerNorm2d) or each token
    of (N, D, L)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.movedim(1, -1)).movedim(-1, 1)
'''


SCALE_HELPER = '''\
class Scale(nn.Module):
    """A learnt factor per channel (ConvNeXt's layer scale)."""

    def __init__(self, channels: int, dims: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones((channels,) + (1,) * dims))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.weight
'''


MUL_HELPER = '''\
class Mul(nn.Module):
    """The element-wise product of its inputs, broadcast (a C×1×1 gate scales each channel)."""

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        product = inputs[0]
        for tensor in inputs[1:]:
            product = product * tensor
        return product
'''


PATCHIFY_HELPER = '''\
class Patchify(nn.Module):
    """Patches embedded by a conv with kernel = stride = patch; the positions become tokens: (N, D, L)."""

    def __init__(self, channels: int, dim: int, patch: int | tuple[int, ...], dims: int, bias: bool = True) -> None:
        super().__init__()
        conv = (nn.Conv1d, nn.Conv2d, nn.Conv3d)[dims - 1]
        self.proj = conv(channels, dim, kernel_size=patch, stride=patch, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2)
'''


CLASS_TOKEN_HELPER = '''\
class ClassToken(nn.Module):
    """Prepends one learnt token: (N, D, L) → (N, D, L + 1)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, dim, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.weight.expand(x.shape[0], -1, -1), x], dim=2)
'''


POSITION_HELPER = '''\
class PositionEmbedding(nn.Module):
    """Adds a learnt D-vector to each of the L tokens."""

    def __init__(self, dim: int, length: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, dim, length))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.weight
'''


ATTENTION_HELPER = '''\
class SelfAttention(nn.Module):
    """Multi-head self-attention on tokens (N, D, L), computed plainly (eager): softmax(Q·Kᵀ/√d)·V per head,
    as nn.MultiheadAttention trains; the same parameters as nn.MultiheadAttention when dim = D."""

    def __init__(self, features: int, heads: int, dim: int, bias: bool = True) -> None:
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(features, dim, bias=bias)
        self.k = nn.Linear(features, dim, bias=bias)
        self.v = nn.Linear(features, dim, bias=bias)
        self.out = nn.Linear(dim, features, bias=bias)

    @staticmethod
    def project(linear: nn.Linear, x: torch.Tensor) -> torch.Tensor:
        """The linear map of every token of (N, D, L), as a 1×1 convolution (no copy of the tokens)."""
        return nn.functional.conv1d(x, linear.weight[:, :, None], linear.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, length = x.shape
        q, k, v = (self.project(p, x).view(n, self.heads, -1, length) for p in (self.q, self.k, self.v))
        scores = q.transpose(-2, -1) @ k * q.shape[2] ** -0.5  # (N, heads, L, L)
        probabilities = scores.softmax(dim=-1)
        context = (v @ probabilities.transpose(-2, -1)).reshape(n, -1, length)  # (N, dim, L)
        return self.project(self.out, context)
'''


SELECT_TOKEN_HELPER = '''\
class SelectToken(nn.Module):
    """Token 0 (the class token) of (N, D, L), as (N, D)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x[:, :, 0]
'''


CHUNK_HELPER = '''\
class Chunk(nn.Module):
    """One of `chunks` equal parts of the channels (a view)."""

    def __init__(self, chunks: int, index: int) -> None:
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.chunk(self.chunks, dim=1)[self.index]
'''
