"""The toy models, batched over an instance axis (paper §2, §8, §10).

Weight layout — decided once for the whole project: ``W`` has shape ``(n_instances, n_hidden, n_features)``,
so for each instance h = W x reads exactly as in the paper and column ``W[k, :, i]`` is feature i's
direction W_i. **The authors' notebook stores the transpose**, ``(instance, n_features, n_hidden)``; ARENA
uses our layout. Activations are ``(n_instances, batch, ·)``.

Besides the autograd ``forward``, :func:`loss_and_grads` gives the loss and its gradients in closed form: the
trainer uses it (no autograd graph per step), and the tests check it against autograd.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ACTIVATIONS, ModelConfig
from .errors import ConfigError
from .workspace import Workspace

SMALL_INIT = 0.1  # the "small" initialisation: Xavier-normal scaled by this factor
_SOFTPLUS_THRESHOLD = 20.0  # torch's softplus is the identity above this (and its slope 1)


def activate(pre: torch.Tensor, name: str, dim: int = -1) -> torch.Tensor:
    """The output nonlinearity ``name`` (``config.ACTIVATIONS``) of the pre-activations; "softmax" normalises
    over the features, axis ``dim``."""
    if name == "relu":
        return pre.relu()
    if name == "none":
        return pre
    if name == "softmax":
        return pre.softmax(dim)
    functions = {"gelu": F.gelu, "silu": F.silu, "softplus": F.softplus, "sigmoid": torch.sigmoid, "tanh": torch.tanh}
    if name not in functions:
        raise ConfigError(f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}; got {name!r}")
    return functions[name](pre)


def activation_and_slope(pre: torch.Tensor, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """act(pre) and its derivative act'(pre), elementwise, derived by hand (the tests check them against autograd):

    * GELU, z Φ(z):    Φ(z) + z φ(z), with Φ and φ the standard normal CDF and density;
    * SiLU, z σ(z):    σ(z) (1 + z (1 − σ(z)));
    * softplus, log(1 + eᶻ): σ(z) (1 above torch's threshold of 20, where softplus is z);
    * sigmoid, σ(z):   σ(z) (1 − σ(z));
    * tanh:            1 − tanh²(z);
    * none:            1;   ReLU: 1 where z > 0, else 0.
    """
    if name == "gelu":
        cdf = torch.special.ndtr(pre)
        return pre * cdf, cdf + pre * torch.exp(-0.5 * pre.square()) * (2 * math.pi) ** -0.5
    if name == "silu":
        sigma = torch.sigmoid(pre)
        return pre * sigma, sigma * (1 + pre * (1 - sigma))
    if name == "softplus":
        above = pre > _SOFTPLUS_THRESHOLD
        return F.softplus(pre), torch.where(above, torch.ones_like(pre), torch.sigmoid(pre))
    if name == "sigmoid":
        sigma = torch.sigmoid(pre)
        return sigma, sigma * (1 - sigma)
    if name == "tanh":
        out = torch.tanh(pre)
        return out, 1 - out.square()
    if name == "none":
        return pre, torch.ones_like(pre)
    if name == "relu":
        return pre.relu(), (pre > 0).to(pre.dtype)
    raise ConfigError(f"activation must be one with an elementwise slope (not softmax), got {name!r}")


def _init_std(config: ModelConfig, n_instances: int) -> float:
    n, m = config.n_features, config.n_hidden
    if config.init == "notebook":
        # torch's xavier_normal_ on the notebook's (instance, n, m) tensor: fan_in = n·m, fan_out = instances·m.
        return math.sqrt(2.0 / (m * (n + n_instances)))
    std = math.sqrt(2.0 / (n + m))  # Xavier-normal for each instance's own m×n matrix
    return std * SMALL_INIT if config.init == "small" else std


class ToyModel(nn.Module):
    """``n_instances`` independent toy models of one :class:`ModelConfig`.

    Parameters: ``W`` (instance, hidden, feature); ``b`` (instance, feature), the output bias; for the untied
    models ``W_out`` (instance, feature, hidden), so that y' = ReLU(W_out h + b); with ``hidden_bias``, ``c``
    (instance, hidden), so that h = W x + c. :meth:`weights` names those a model has.

    ``model(x)`` takes ``x`` of shape (instance, batch, feature), the instance axis first, and returns x' (or y')
    of the same shape. (The ARENA course's models take (batch, instance, feature): ``x.transpose(0, 1)``.)
    """

    def __init__(
        self,
        config: ModelConfig,
        n_instances: int = 1,
        *,
        generator: torch.Generator | None = None,
        device: str | torch.device = "cpu",
        init_instances: int | None = None,
    ) -> None:
        """``init_instances``: the instance count that the notebook's initialisation scales by (default
        ``n_instances``; the trainer passes the whole experiment's when it builds one block)."""
        super().__init__()
        if isinstance(n_instances, bool) or not isinstance(n_instances, int) or n_instances < 1:
            raise ConfigError(f"n_instances must be a positive integer (>= 1), got {n_instances!r}")
        self.config = config
        n, m = config.n_features, config.n_hidden
        std = _init_std(config, init_instances or n_instances)
        randn = lambda *shape: torch.randn(shape, generator=generator, device=device) * std  # noqa: E731
        self.W = nn.Parameter(randn(n_instances, m, n))
        self.W_out = None
        if not config.tied:
            # A contiguous copy: the fused optimiser needs a parameter laid out as its gradient.
            start = (
                self.W.detach().transpose(1, 2).clone(memory_format=torch.contiguous_format)
                if config.decoder_init == "transpose"
                else None
            )
            self.W_out = nn.Parameter(randn(n_instances, n, m) if start is None else start)
        self.c = nn.Parameter(torch.zeros(n_instances, m, device=device)) if config.hidden_bias else None
        self.b = nn.Parameter(torch.zeros(n_instances, n, device=device))

    @classmethod
    def from_arrays(cls, config: ModelConfig, W, b, W_out=None, device: str | torch.device = "cpu", c=None) -> ToyModel:
        """A model holding the given weights (arrays or tensors, copied as float32 onto ``device``), shapes
        checked against ``config``: ``W_out`` for the untied kinds, ``c`` with ``hidden_bias``."""
        W = torch.as_tensor(W)
        n, m = config.n_features, config.n_hidden
        expected = {"W": (W.shape[0], m, n), "b": (W.shape[0], n)}
        if not config.tied:
            expected["W_out"] = (W.shape[0], n, m)
        if config.hidden_bias:
            expected["c"] = (W.shape[0], m)
        given = {
            name: None if value is None else torch.as_tensor(value)
            for name, value in (("W", W), ("b", b), ("W_out", W_out), ("c", c))
        }
        for name, shape in expected.items():
            if given[name] is None or tuple(given[name].shape) != shape or W.ndim != 3:
                found = None if given[name] is None else tuple(given[name].shape)
                raise ConfigError(f"{name} must have shape {shape} for {config}, got {found}")
        model = cls.__new__(cls)
        nn.Module.__init__(model)
        model.config = config
        to = dict(dtype=torch.float32, device=device)
        for name in ("W", "W_out", "c", "b"):
            value = given[name] if name in expected else None
            if value is not None:  # contiguous copies: the fused optimiser needs parameters laid out as gradients
                value = nn.Parameter(value.detach().to(**to).clone(memory_format=torch.contiguous_format))
            setattr(model, name, value)
        return model

    def weights(self) -> dict[str, torch.Tensor]:
        """The model's parameters by name, detached: ``W``, then ``W_out`` (untied) and ``c`` (hidden bias) where
        the model has them, then ``b``; the names a result's arrays and a store entry use."""
        named = (("W", self.W), ("W_out", self.W_out), ("c", self.c), ("b", self.b))
        return {name: p.detach() for name, p in named if p is not None}

    @property
    def n_instances(self) -> int:
        return self.W.shape[0]

    @property
    def decoder(self) -> torch.Tensor:
        """The matrix that maps h back to features, (instance, feature, hidden): Wᵀ when tied, else W_out."""
        return self.W.transpose(1, 2) if self.W_out is None else self.W_out

    def _check_input(self, x: torch.Tensor) -> None:
        expected = (self.n_instances, self.config.n_features)
        if x.ndim != 3 or (x.shape[0], x.shape[2]) != expected:
            raise ConfigError(
                f"x must have shape (n_instances={expected[0]}, batch, n_features={expected[1]}), got {tuple(x.shape)}"
            )

    def hidden(self, x: torch.Tensor) -> torch.Tensor:
        """h = W x (+ c with a hidden bias; ReLU of it for the models with a privileged hidden basis): (instance,
        batch, hidden)."""
        self._check_input(x)
        h = torch.bmm(x, self.W.transpose(1, 2))
        if self.c is not None:
            h = h + self.c.unsqueeze(1)
        return h.relu() if self.config.hidden_relu else h

    def preactivation(self, x: torch.Tensor) -> torch.Tensor:
        """D h + b, what the output nonlinearity acts on (the logits of a softmax output): (instance, batch,
        feature)."""
        return torch.bmm(self.hidden(x), self.decoder.transpose(1, 2)) + self.b.unsqueeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x' (or y') for ``x`` of shape (instance, batch, feature): the instance axis first."""
        out = self.preactivation(x)
        return out if self.config.kind == "linear" else activate(out, self.config.activation)

    def loss(self, x: torch.Tensor, target: torch.Tensor, importance: torch.Tensor) -> torch.Tensor:
        """Per-instance loss (autograd): importance-weighted squared error, averaged over batch and features
        as in the authors' notebook, plus λ·E‖h‖₁ when ``l1_penalty`` is set. Sum it to train.

        A softmax output is trained by the importance-weighted cross-entropy instead, −Σ_i I_i t_i log x'_i,
        summed over the features and averaged over the batch (a sample whose target t is all zeros costs 0).
        ``importance`` is (instance, feature), or (instance, batch, feature) for per-sample weights
        (:func:`toymodels.data.loss_weights`)."""
        weight = importance.unsqueeze(1) if importance.ndim == 2 else importance
        if self.config.activation == "softmax":
            logq = self.preactivation(x).log_softmax(-1)
            error = -(weight * target * logq).sum(-1).mean(-1)
        else:
            error = (weight * (target - self(x)).square()).mean((1, 2))
        if self.config.l1_penalty:
            error = error + self.config.l1_penalty * self.hidden(x).abs().sum(-1).mean(-1)
        return error

    def select(self, index: torch.Tensor | list[int]) -> ToyModel:
        """A new model holding a copy of the chosen instances (e.g. the best seed of each setting)."""
        index = torch.as_tensor(index, dtype=torch.long, device=self.W.device)
        chosen = ToyModel.__new__(ToyModel)
        nn.Module.__init__(chosen)
        chosen.config = self.config
        chosen.W = nn.Parameter(self.W.detach()[index].clone())
        for name in ("W_out", "c", "b"):
            value = getattr(self, name)
            setattr(chosen, name, None if value is None else nn.Parameter(value.detach()[index].clone()))
        return chosen


@torch.no_grad()
def loss_and_grads(
    model: ToyModel,
    x: torch.Tensor,
    target: torch.Tensor,
    importance: torch.Tensor,
    workspace: Workspace | None = None,
    need_loss: bool = True,
    total_batch: int | None = None,
) -> tuple[torch.Tensor | None, dict[str, torch.Tensor]]:
    """Per-instance loss (as :meth:`ToyModel.loss`) and the gradients of its sum, derived by hand.

    With D the decoder (Wᵀ when tied), pre = D h + b, out = act(pre) and L = Σ_k mean_{batch,i} I_i (out − y)²
    (+ λ mean_batch ‖h‖₁), act' from :func:`activation_and_slope` (a softmax output: the cross-entropy's
    g = (c·softmax(pre) − I t) / batch, c = Σ_i I_i t_i):
      g = 2 I (out − y) / (batch·n) · act'(pre);  ∂b = Σ_batch g;  g_h = Dᵀ g (+ λ sign(h) / batch) · act_h'
      ∂D = g hᵀ;  ∂W (encoder) = g_h xᵀ;  ∂c = Σ_batch g_h (hidden bias).   For tied models both terms add up
      in ∂W. ``importance`` may be per sample, (instance, batch, feature), as :meth:`ToyModel.loss` takes it.
    Activations are feature-major, (instance, ·, batch), where these thin matrix products are fastest; a
    batch from :func:`toymodels.data.sample_features` already is. ``need_loss=False`` skips the loss.
    When x is one chunk of a larger batch, ``total_batch`` is that batch's size: the loss and gradients are then
    this chunk's contributions to the batch mean, and the chunks' results add up.

    Small tied models without a hidden nonlinearity take a shortcut through the Gram matrix M = WᵀW:
    pre = M x + b, and since L depends on W only through M, with S = ∂L/∂M = g xᵀ, ∂W = W (S + Sᵀ). That is two
    products with the batch instead of five, and fewer FLOPs while 2n ≤ 5m.
    """
    config = model.config
    workspace = workspace or Workspace()
    n_instances, batch, n = x.shape
    mean_over = total_batch or batch
    m = config.n_hidden
    xT, yT = x.transpose(1, 2), target.transpose(1, 2)  # (instance, feature, batch)
    W, decoder = model.W.detach(), model.decoder.detach()

    bias = model.b.detach().unsqueeze(-1)
    pre = workspace.get("pre", (n_instances, n, batch), x)
    # Two n×n products (4n² FLOPs per sample) against five thin ones (10nm): the Gram path wins while 2n ≤ 5m.
    through_gram = (
        config.kind in ("linear", "relu_output") and not config.l1_penalty and not config.hidden_bias and 2 * n <= 5 * m
    )
    if through_gram:
        torch.baddbmm(bias, torch.bmm(W.transpose(1, 2), W), xT, out=pre)
    else:
        h = torch.bmm(W, xT, out=workspace.get("h", (n_instances, m, batch), x))
        if config.hidden_bias:
            h.add_(model.c.detach().unsqueeze(-1))
        if config.hidden_relu:
            h.relu_()
        torch.baddbmm(bias, decoder, h, out=pre)
    # (instance, feature, 1), or per sample (instance, feature, batch) for conditional importance
    weight = importance.unsqueeze(-1) if importance.ndim == 2 else importance.transpose(1, 2)
    activation = "none" if config.kind == "linear" else config.activation
    loss = None
    if activation in ("relu", "none"):
        if need_loss:
            out = pre if activation == "none" else pre.relu()
            loss = (out - yT).square_().mul_(weight).sum((1, 2)) / (mean_over * n)
        g = torch.sub(pre, yT, out=workspace.get("g", (n_instances, n, batch), x))
        g.mul_(weight * (2.0 / (mean_over * n)))
        if activation == "relu":
            # ReLU's backward: keep g where pre > 0 (where out − y = pre − y), zero elsewhere; in place.
            torch.ops.aten.threshold_backward.grad_input(g, pre, 0, grad_input=g)
    elif activation == "softmax":
        # Cross-entropy L = −Σ_i I_i t_i log q_i, q = softmax(pre) over the features: ∂L/∂pre_k = c q_k − I_k t_k
        # with c = Σ_i I_i t_i (0 for a sample whose target is all zeros), averaged over the batch.
        weighted = weight * yT
        logq = pre.log_softmax(1)
        if need_loss:
            loss = -(weighted * logq).sum((1, 2)) / mean_over
        g = (logq.exp_().mul_(weighted.sum(1, keepdim=True)).sub_(weighted)).div_(mean_over)
    else:
        out, slope = activation_and_slope(pre, activation)
        if need_loss:
            loss = (out - yT).square().mul_(weight).sum((1, 2)) / (mean_over * n)
        g = (out - yT).mul_(weight * (2.0 / (mean_over * n))).mul_(slope)
    grad_b = g.sum(-1)
    if through_gram:
        S = torch.bmm(g, x)  # (instance, feature, feature)
        return loss, {"W": torch.bmm(W, S + S.transpose(1, 2)), "b": grad_b}
    g_h = torch.bmm(decoder.transpose(1, 2), g, out=workspace.get("g_h", (n_instances, m, batch), x))
    if config.l1_penalty:
        if need_loss:
            loss += config.l1_penalty * h.abs().sum((1, 2)) / mean_over
        g_h.add_(torch.sign(h), alpha=config.l1_penalty / mean_over)
    if config.hidden_relu:
        torch.ops.aten.threshold_backward.grad_input(g_h, h, 0, grad_input=g_h)
    grad_W = torch.bmm(g_h, x)  # encoder term g_h xᵀ, (instance, hidden, feature)
    grads = {"b": grad_b}
    if config.hidden_bias:
        grads["c"] = g_h.sum(-1)
    if config.tied:
        grad_W.baddbmm_(h, g.transpose(1, 2))  # decoder term (g hᵀ)ᵀ = h gᵀ
    else:
        grads["W_out"] = torch.bmm(g, h.transpose(1, 2))
    grads["W"] = grad_W
    return loss, grads


def interference_directions(W: torch.Tensor) -> torch.Tensor:
    """The paper's analytic attack directions (§6), (instance, feature, feature): row i is (WᵀW)_i / ‖(WᵀW)_i‖₂,
    the input direction that excites feature i's interference the most. A feature with W_i = 0 gets a zero row."""
    gram = torch.bmm(W.transpose(1, 2), W)  # symmetric, so row i is column i
    return gram / gram.norm(dim=-1, keepdim=True).clamp_min(1e-12)


def attacked_inputs(W: torch.Tensor, x: torch.Tensor, features: torch.Tensor, fraction: torch.Tensor) -> torch.Tensor:
    """x + δ with δ the analytic attack on ``features`` (instance, batch): each input gets the attack on its own
    feature, of norm ``fraction`` (instance,) × the batch's mean input norm. The result keeps x's memory layout
    (the trainer's batches are feature-major)."""
    n_instances, n = W.shape[0], W.shape[-1]
    directions = interference_directions(W).reshape(n_instances * n, n)  # row k·n + i: instance k's δ_i / λ
    rows = (features + n * torch.arange(n_instances, device=W.device).unsqueeze(1)).flatten()
    delta = directions.index_select(0, rows).view(*features.shape, n)  # (instance, batch, feature)
    scale = fraction * x.norm(dim=-1).mean(-1)  # λ per instance
    return x.clone().add_(delta.mul_(scale[:, None, None]))
