"""PolicyBasedRL: an autoregressive policy trained with PPO's clipped objective (plain torch)."""
from __future__ import annotations

import collections
import math
import numbers
import random
from typing import Any, Mapping

import torch

from nas_core.errors import ConfigError
from nas_core.threads import torch_threads
from nas_core.interfaces.strategy import TrialResult
from nas_core.strategy import (
    SeededStrategy,
    StrategyStateError,
    check_int,
    set_torch_generator_state,
    torch_generator_state,
    usable_score,
)
from nas_core.strategy.ranks import normal_score_of
from nas_strategy_ppo.elites import Elites
from nas_strategy_ppo.policy import AutoregressivePolicy
from nas_strategy_ppo.serialize import from_jsonable, to_jsonable

__all__ = ["PolicyBasedRL"]

#: policy draws per ask that may be equivalent to a tried sample (unmasked) before a uniform draw
_MAX_EQUIVALENT_DRAWS = 8
#: policy draws computed together in one batched pass (about the cost of one)
_DRAW_BATCH = 16
#: bound on |log pi(sample) - log pi_old(sample)| in the PPO ratio
_MAX_LOG_RATIO = 20.0

Indices = tuple[int, ...]


def _check_float(name: str, value: Any, low: float, high: float = math.inf, low_open: bool = False) -> float:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and value <= high
    if not ok:
        bound = f"{'>' if low_open else '>='} {low}" + (f" and <= {high}" if high != math.inf else "")
        raise ConfigError(f"PolicyBasedRL: {name} must be a number {bound}, got {value!r}.")
    return float(value)


class PolicyBasedRL(SeededStrategy):
    """Reinforcement learning over architectures with PPO.

    The policy (:class:`~nas_strategy_ppo.policy.AutoregressivePolicy`, a GRU cell) picks
    each label's value in space order, conditioned on the previous choices; it starts
    uniform. Each told score is the reward of its sample. After every ``batch_size``
    rewards the policy takes ``update_epochs`` Adam steps on PPO's clipped surrogate
    objective (clip ``clip``) plus ``entropy_coef`` x entropy, with advantages
    ``z(reward) - baseline``: ``z`` is the normal quantile of the reward's rank among the
    ``reward_window`` most recent rewards (:func:`nas_core.strategy.ranks.normal_score_of`), so
    a few failed or penalised samples scored 0 do not drown the differences among good ones,
    and the baseline is an exponential moving average of past ``z`` (decay ``baseline_decay``).
    Ranks rather than the standard deviation of all
    rewards so far.

    Self-imitation (Oh et al. 2018, "Self-Imitation Learning"): PPO learns only from the
    latest batch, so the best samples found so far would be forgotten a few updates after
    they were drawn. Each update also raises the (unmasked) log-probability of the
    ``elite_size`` best samples told so far, weighted by ``imitation_coef`` x
    ``max(z(reward) - baseline, 0)``: an elite that the recent rewards have caught up with
    stops pulling. Since tried samples are masked, a policy drawn towards the elites
    proposes their untried neighbours, which is where better samples usually are.

    Unless ``allow_repeat``, values whose every completion was already proposed or told
    are masked out while sampling, so the policy never proposes a sample twice, needs no
    retries, and ``ask`` returns None once the space is exhausted; the masks are kept
    with each sample so the PPO ratio compares the same distributions.

    Failed trials and scoreless rejections give no reward (the sample is still never
    proposed again); ``Filter(metric_if_rejected=x)`` rewards rejected samples with ``x``.
    Samples told without having been asked (replayed history) are marked as seen and
    update the reward statistics but not the policy.

    Args:
        batch_size: rewards per policy update (>= 1).
        update_epochs: gradient steps per update (>= 1).
        learning_rate: Adam learning rate (> 0).
        clip: PPO clip range epsilon (> 0, < 1).
        entropy_coef: weight of the entropy bonus (>= 0).
        baseline_decay: moving-average decay of the reward baseline, in [0, 1).
        hidden_size: width of the GRU and the embeddings (>= 1).
        allow_repeat: allow proposing samples already proposed or told.
        reward_window: recent rewards that a reward is ranked among (>= 2).
        elite_size: best samples so far that each update imitates (>= 0; 0 turns self-imitation off).
        imitation_coef: weight of the self-imitation term (>= 0).
        max_draws: policy draws per ``ask`` that may come out infeasible (under a predicate
            handed over by ``Filter``) or equivalent to a tried sample before a uniform
            feasible untried sample is proposed instead.
        seed: overrides the seed the runner passes to ``setup``; it seeds the policy's
            initial weights and the sampling ``torch.Generator``.
    """

    name = "ppo"

    def __init__(self, batch_size: int = 4, update_epochs: int = 4, learning_rate: float = 0.05,
                 clip: float = 0.2, entropy_coef: float = 0.01, baseline_decay: float = 0.9,
                 hidden_size: int = 32, allow_repeat: bool = False, max_draws: int = 100, reward_window: int = 64,
                 elite_size: int = 8, imitation_coef: float = 0.3, seed: int | None = None) -> None:
        super().__init__(seed)
        self.batch_size = check_int("PolicyBasedRL", "batch_size", batch_size, 1)
        self.update_epochs = check_int("PolicyBasedRL", "update_epochs", update_epochs, 1)
        self.learning_rate = _check_float("learning_rate", learning_rate, 0.0, low_open=True)
        self.clip = _check_float("clip", clip, 0.0, 1.0, low_open=True)
        self.entropy_coef = _check_float("entropy_coef", entropy_coef, 0.0)
        self.baseline_decay = _check_float("baseline_decay", baseline_decay, 0.0, 1.0)
        if self.baseline_decay >= 1.0:
            raise ConfigError(f"PolicyBasedRL: baseline_decay must be in [0, 1), got {baseline_decay!r}.")
        self.hidden_size = check_int("PolicyBasedRL", "hidden_size", hidden_size, 1)
        if not isinstance(allow_repeat, bool):
            raise ConfigError(f"PolicyBasedRL: allow_repeat must be True or False, got {allow_repeat!r}.")
        self.allow_repeat = allow_repeat
        self.max_draws = check_int("PolicyBasedRL", "max_draws", max_draws, 1)
        self.reward_window = check_int("PolicyBasedRL", "reward_window", reward_window, 2)
        self.elite_size = check_int("PolicyBasedRL", "elite_size", elite_size, 0)
        self.imitation_coef = _check_float("imitation_coef", imitation_coef, 0.0)

    def _setup(self) -> None:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            self.policy = AutoregressivePolicy(self.codec.sizes, self.hidden_size)
        self.optimizer = torch.optim.Adam(self.policy.parameters(), lr=self.learning_rate)
        self._gen = torch.Generator().manual_seed(self.seed)
        self._pending: dict[Indices, list[dict[str, Any]]] = {}  # asked, not told: masks and log-prob
        self._buffer: list[dict[str, Any]] = []  # rewarded episodes waiting for the next update
        self.baseline: float | None = None
        self._recent: collections.deque[float] = collections.deque(maxlen=self.reward_window)  # from history
        self._elites = Elites(self.elite_size)  # from history
        self.n_updates = 0

    # -- proposing --------------------------------------------------------------------
    def ask(self) -> dict[str, Any] | None:
        codec, proposals = self._require_setup(), self._require_proposals()
        if not self.allow_repeat and proposals.seen.remaining <= 0:
            return None
        chosen: Indices | None = None
        episode: dict[str, Any] | None = None
        with torch.no_grad(), torch_threads(1):
            drawn = repeats = 0
            while chosen is None and drawn < self.max_draws and repeats < _MAX_EQUIVALENT_DRAWS:
                for raw, masks, logp in self._draw(min(_DRAW_BATCH, self.max_draws - drawn)):
                    drawn += 1
                    chosen, why = self._admit(raw)
                    if chosen is not None:
                        episode = {"actions": list(raw), "masks": masks, "logp": logp}
                        break
                    repeats += why == "tried"
                    if repeats >= _MAX_EQUIVALENT_DRAWS:
                        break  # the masks cannot see equivalences: stop drawing samples equivalent to tried ones
        if chosen is None:
            # the policy keeps proposing tried or infeasible samples: a uniform feasible new one instead
            rng = random.Random(int(torch.randint(2**31 - 1, (1,), generator=self._gen)))
            chosen = proposals.draw(rng)
            if chosen is None:
                return None
            episode = self._replay(chosen)
        proposals.mark(chosen)
        self._pending.setdefault(chosen, []).append(episode)
        return codec.decode(chosen)

    def _admit(self, raw: Indices) -> tuple[Indices | None, str]:
        """``raw``'s canonical form and "", or None and why not ("tried" or "infeasible")."""
        proposals = self.proposals
        c = proposals.canonical(raw)
        if not self.allow_repeat and not proposals.is_new(c):
            return None, "tried"
        return (c, "") if proposals.is_feasible(c) else (None, "infeasible")

    def _masks_row(self, prefix: list[int]) -> list[bool]:
        return [c > 0 for c in self.proposals.seen.unseen_counts(prefix)]

    def _draw(self, k: int) -> list[tuple[Indices, list[list[bool]] | None, float]]:
        """``k`` independent samples from the policy in one batched pass (values with no untried completion
        masked): actions, masks, log-prob of each."""
        prefixes: list[list[int]] = [[] for _ in range(k)]
        masks: list[list[list[bool]]] | None = None if self.allow_repeat else [[] for _ in range(k)]
        logp = torch.zeros(k)
        x, h = self.policy.start.expand(k, -1), None
        for t in range(len(self.codec.sizes)):
            mask = None
            if masks is not None:
                rows = [self._masks_row(prefix) for prefix in prefixes]
                for held, row in zip(masks, rows):
                    held.append(row)
                mask = torch.tensor(rows)
            h, lp = self.policy.step(t, x, h, mask)
            a = torch.multinomial(lp.exp(), 1, generator=self._gen).squeeze(1)
            logp += lp.gather(1, a[:, None]).squeeze(1)
            for prefix, v in zip(prefixes, a.tolist()):
                prefix.append(v)
            x = self.policy.embeds[t](a)
        return [(tuple(prefix), None if masks is None else masks[i], float(logp[i])) for i, prefix in enumerate(prefixes)]

    def _replay(self, indices: Indices) -> dict[str, Any]:
        """The episode (masks, log-prob under the current policy) of a sample chosen without the policy."""
        masks = None if self.allow_repeat else [self._masks_row(list(indices[:t])) for t in range(len(indices))]
        tensor_masks = [None if masks is None else torch.tensor([masks[t]]) for t in range(len(indices))]
        with torch.no_grad(), torch_threads(1):
            logp, _ = self.policy.evaluate(torch.tensor([indices]), tensor_masks)
        return {"actions": list(indices), "masks": masks, "logp": float(logp[0])}

    # -- learning ---------------------------------------------------------------------
    def tell(self, sample: Mapping[str, Any], result: TrialResult) -> None:
        indices = self._require_proposals().canonical_of(sample)
        self.proposals.mark(indices)
        episodes = self._pending.get(indices)
        episode = episodes.pop(0) if episodes else None
        if episodes is not None and not episodes:
            del self._pending[indices]
        reward = usable_score(result)
        if reward is None:
            return
        self._recent.append(reward)
        self._elites.add(indices, reward)
        if episode is None:
            self._update_baseline([normal_score_of(reward, self._recent)])
            return
        self._buffer.append({"indices": episode["actions"], "masks": episode["masks"], "logp": episode["logp"], "reward": reward})
        if len(self._buffer) >= self.batch_size:
            with torch_threads(1):
                self._update()

    def _update_baseline(self, rewards: list[float]) -> None:
        for r in rewards:
            self.baseline = r if self.baseline is None else self.baseline_decay * self.baseline + (1 - self.baseline_decay) * r

    def _update(self) -> None:
        batch, self._buffer = self._buffer, []
        rewards = [e["reward"] for e in batch]
        z = [normal_score_of(r, self._recent) for r in rewards]
        baseline = self.baseline if self.baseline is not None else sum(z) / len(z)
        adv = torch.tensor([v - baseline for v in z])
        actions = torch.tensor([e["indices"] for e in batch])
        masks = [
            torch.tensor([e["masks"][t] if e["masks"] is not None else [True] * n for e in batch])
            for t, n in enumerate(self.codec.sizes)
        ]
        old_logp = torch.tensor([e["logp"] for e in batch])
        elite_actions, elite_weights = self._imitation_targets(baseline)
        n = len(batch)
        if elite_actions is not None:  # one pass for both: the elites' rows unmasked
            actions = torch.cat([actions, elite_actions])
            masks = [torch.cat([m, torch.ones(len(elite_actions), m.shape[1], dtype=torch.bool)]) for m in masks]
        for _ in range(self.update_epochs):
            all_logp, all_entropy = self.policy.evaluate(actions, masks)
            logp, entropy = all_logp[:n], all_entropy[:n]
            # a sample proposed by the uniform fallback may be very unlikely under a confident policy: the log-ratio
            # is bounded so that exp() cannot overflow (outside the clip range the surrogate has no gradient anyway)
            ratio = torch.exp(torch.clamp(logp - old_logp, -_MAX_LOG_RATIO, _MAX_LOG_RATIO))
            surrogate = torch.min(ratio * adv, torch.clamp(ratio, 1 - self.clip, 1 + self.clip) * adv)
            loss = -surrogate.mean() - self.entropy_coef * entropy.mean()
            if elite_actions is not None:
                loss = loss - self.imitation_coef * (elite_weights * all_logp[n:]).mean()
            self.optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.policy.parameters(), 5.0)
            self.optimizer.step()
        self._update_baseline(z)
        self.n_updates += 1

    def _imitation_targets(self, baseline: float) -> tuple[torch.Tensor | None, torch.Tensor]:
        """The elites that beat the baseline and their weights ``z(reward) - baseline``."""
        chosen = [(list(indices), normal_score_of(reward, self._recent) - baseline)
                  for indices, reward in self._elites.items()]
        chosen = [(indices, w) for indices, w in chosen if w > 0]
        if self.imitation_coef == 0 or not chosen:
            return None, torch.zeros(0)
        return torch.tensor([i for i, _ in chosen]), torch.tensor([w for _, w in chosen])

    def probabilities(self) -> dict[str, list[float]]:
        """The policy's current per-label probabilities along its most likely path (for inspection)."""
        codec = self._require_setup()
        out: dict[str, list[float]] = {}
        with torch.no_grad(), torch_threads(1):
            x, h = self.policy.start[None], None
            for t, label in enumerate(codec.labels):
                h, lp = self.policy.step(t, x, h, None)
                out[label] = lp.exp()[0].tolist()
                x = self.policy.embeds[t](lp.argmax(1))
        return out

    def log_prob(self, sample: Mapping[str, Any]) -> float:
        """Log-probability that the unmasked policy proposes ``sample``."""
        codec = self._require_setup()
        actions = torch.tensor([codec.encode(sample)])
        with torch.no_grad(), torch_threads(1):
            logp, _ = self.policy.evaluate(actions, [None] * len(codec.sizes))
        return float(logp[0])

    # -- state ------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "options": {"batch_size": self.batch_size, "update_epochs": self.update_epochs,
                        "hidden_size": self.hidden_size, "allow_repeat": self.allow_repeat},
            "policy": to_jsonable(self.policy.state_dict()),
            "optimizer": to_jsonable(self.optimizer.state_dict()),
            "generator": torch_generator_state(self._gen),
            "pending": [[list(i), eps] for i, eps in self._pending.items()],
            "buffer": list(self._buffer),
            "baseline": self.baseline,
            "n_updates": self.n_updates,
        }

    def _load_state(self, state: Mapping[str, Any]) -> None:
        if state["options"]["hidden_size"] != self.hidden_size:
            raise StrategyStateError(
                f"PolicyBasedRL.load_state_dict: the state was saved with hidden_size={state['options']['hidden_size']}, "
                f"this strategy has hidden_size={self.hidden_size}; create it with the same options."
            )
        self.batch_size = int(state["options"]["batch_size"])
        self.update_epochs = int(state["options"]["update_epochs"])
        self.allow_repeat = bool(state["options"]["allow_repeat"])
        self.policy.load_state_dict(from_jsonable(state["policy"]))
        self.optimizer.load_state_dict(from_jsonable(state["optimizer"]))
        set_torch_generator_state(self._gen, state["generator"])
        self._pending = {tuple(i): [dict(e) for e in eps] for i, eps in state["pending"]}
        for indices in self._pending:
            self.proposals.mark(indices)
        self._buffer = [dict(e) for e in state["buffer"]]
        self.baseline = state["baseline"]
        self.n_updates = int(state["n_updates"])

    def _restore(self, told: list[tuple[Indices, TrialResult]]) -> None:
        """The recent rewards are the last ``reward_window`` usable scores of the history; the elites its best."""
        self._recent.clear()
        self._elites.clear()
        for indices, result in told:
            reward = usable_score(result)
            if reward is not None:
                self._recent.append(reward)
                self._elites.add(indices, reward)
