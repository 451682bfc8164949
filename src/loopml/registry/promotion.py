"""``promote`` and ``rollback``: the one door to an alias, and the way back.

A promotion judges the candidate's gates against the model that holds the alias now, then moves
the alias with a compare-and-set on that holder. If another promotion moved it in the meantime,
the candidate is judged again against the new holder, so a model that is worse than the current
champion never takes its place. Every outcome — promoted, refused, forced — is an event with
the gate evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from loopml.entities import ModelVersion
from loopml.errors import Conflict, InvalidInput, NotFound
from loopml.evaluation.gates import GateResult, check_gates, parse_gates
from loopml.evaluation.result import EvaluationResult
from loopml.registry.evaluations import HeldOut, evaluate, load_frame, stored_evaluation
from loopml.registry.events import actor, subject
from loopml.store import NewEvent
from loopml.workspace import default_workspace

MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class PromotionResult:
    """What a promotion decided and why; a failed gate is a result, not an exception."""

    promoted: bool
    name: str
    version: int
    alias: str
    previous_version: int | None
    gates: tuple[GateResult, ...]
    reason: str
    forced: bool = False
    event_id: str | None = None
    evaluation_id: str | None = None
    baseline_evaluation_id: str | None = None
    evaluation: EvaluationResult | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "promoted": self.promoted,
            "name": self.name,
            "version": self.version,
            "alias": self.alias,
            "previous_version": self.previous_version,
            "gates": [g.to_dict() for g in self.gates],
            "reason": self.reason,
            "forced": self.forced,
            "event_id": self.event_id,
            "evaluation_id": self.evaluation_id,
            "baseline_evaluation_id": self.baseline_evaluation_id,
        }


@dataclass(frozen=True)
class _Evidence:
    candidate: EvaluationResult | None
    baseline: EvaluationResult | None
    notes: tuple[str, ...] = ()


def promote(
    name: str,
    version: int,
    alias: str = "champion",
    gates: Sequence[str] | None = None,
    data: Any = None,
    target: str | None = None,
    *,
    force: bool = False,
    reason: str | None = None,
    slices: Sequence[str] | None = None,
    task: str | None = None,
    dry_run: bool = False,
) -> PromotionResult:
    """Move ``alias`` to ``version`` only when every gate passes (or ``force`` with a reason).

    ``dry_run`` judges the gates exactly as a promotion would and moves nothing (the result
    says what would happen; manual approval in the training loop starts from it).

    ``gates`` default to the model's declared ones. With ``data`` the candidate and the current
    holder are evaluated on those rows now; without it their stored evaluations on the same data
    version are used, and a gate that cannot be computed from them fails and says why.
    """
    if force and not (reason and reason.strip()):
        raise InvalidInput(
            "a forced promotion needs a reason",
            field="reason",
            hint="say why the gates are overridden, e.g. reason='hotfix for incident 42'",
        )
    store = default_workspace().store
    candidate = store.models.version(name, version)
    expressions = _gates_for(name, gates)
    parsed = parse_gates(expressions)
    slice_columns = list(slices or sorted({g.slice_column for g in parsed if g.slice_column}))
    for _ in range(MAX_ATTEMPTS):
        holder = _holder(name, alias)
        if holder is not None and holder.version == candidate.version:
            return PromotionResult(
                promoted=False,
                name=name,
                version=version,
                alias=alias,
                previous_version=holder.version,
                gates=(),
                reason=f"version {version} already holds {alias!r}",
            )
        timed = any(g.metric.startswith("latency_") for g in parsed)
        evidence = _evidence(candidate, holder, data, target, task, slice_columns, timed)
        results = tuple(
            check_gates(
                parsed,
                evidence.candidate.scores() if evidence.candidate else None,
                evidence.baseline.scores() if evidence.baseline else None,
            )
        )
        if evidence.candidate is None:
            why = "; ".join(evidence.notes) or "no evaluation"
            results = tuple(
                GateResult(r.expression, False, None, None, f"cannot be computed: {why}")
                for r in results
            )
        elif holder is not None and evidence.baseline is None:
            # Comparisons against a holder we could not score must fail, not pass as "nothing
            # to compare with": re-judge them with an explicit reason.
            results = tuple(
                _unjudgeable(r, gate.compares, holder, evidence)
                for r, gate in zip(results, parsed, strict=True)
            )
        passed = all(r.passed for r in results)
        try:
            if dry_run:
                return _dry_run(candidate, holder, alias, results, evidence, passed)
            return _decide(candidate, holder, alias, results, evidence, passed, force, reason)
        except Conflict:
            continue  # the alias moved while we judged: judge again against its new holder
    raise Conflict(
        f"alias {alias!r} of {name!r} kept moving during {MAX_ATTEMPTS} promotion attempts",
        field="alias",
        value=alias,
        hint="retry when the other promotions have finished",
    )


def _unjudgeable(
    result: GateResult, compares: bool, holder: ModelVersion, evidence: _Evidence
) -> GateResult:
    if not compares:
        return result
    why = "; ".join(evidence.notes) or "it has no stored evaluation"
    return GateResult(
        result.expression,
        False,
        result.value,
        None,
        f"cannot be computed for the current holder (version {holder.version}): {why}",
    )


def _gates_for(name: str, gates: Sequence[str] | None) -> list[str]:
    if gates is not None:
        return [gates] if isinstance(gates, str) else list(gates)
    try:
        declared = default_workspace().store.models.gates(name)
    except NotFound:
        return []
    return list(declared.gates) if declared is not None else []


def _holder(name: str, alias: str) -> ModelVersion | None:
    try:
        return default_workspace().store.models.version(name, alias=alias)
    except NotFound:
        return None


def _evidence(
    candidate: ModelVersion,
    holder: ModelVersion | None,
    data: Any,
    target: str | None,
    task: str | None,
    slices: Sequence[str],
    latency: bool = True,
) -> _Evidence:
    """Scores of the candidate and the holder on the same rows: fresh with data, else stored."""
    if data is None:
        return _stored_evidence(candidate, holder)
    frame, data_version = load_frame(data)
    held_out = HeldOut(frame, data_version)
    present = [column for column in slices if column in frame.columns]
    notes: list[str] = [
        f"slice column {column!r} is not in the data" for column in slices if column not in present
    ]
    options: dict[str, Any] = {
        "target": target or candidate.target,
        "task": task or candidate.task,
        "slices": present or None,
        "latency": latency,
    }
    try:
        result = evaluate(
            candidate.uri, held_out, baseline=holder.uri if holder else None, **options
        )
    except InvalidInput as exc:
        if holder is None or not exc.message.startswith(holder.uri):
            return _Evidence(None, None, (*notes, exc.message))
        # The holder cannot be scored on these rows: judge the candidate alone, and say why
        # the comparisons cannot be made.
        notes.append(f"could not score the current holder: {exc.message}")
        result = evaluate(candidate.uri, held_out, baseline=None, **options)
        return _Evidence(result, None, tuple(notes))
    baseline = None
    if holder is not None and result.baseline_metrics is not None:
        baseline = _baseline_part(result, holder)
    return _Evidence(result, baseline, tuple(notes))


def _stored_evidence(candidate: ModelVersion, holder: ModelVersion | None) -> _Evidence:
    """The candidate's newest stored evaluation, and the holder's on the very same rows."""
    stored = stored_evaluation(candidate.digest)
    if stored is None:
        note = f"version {candidate.version} has no stored evaluation; pass data= to evaluate it"
        return _Evidence(None, None, (note,))
    if holder is None:
        return _Evidence(stored, None)
    baseline = None
    if stored.baseline_digest == holder.digest:
        baseline = _baseline_part(stored, holder)
    elif stored.data_version is not None:
        # Rows without a data version (a DataFrame, a file) cannot be matched across
        # evaluations: only a data version names the same rows twice.
        baseline = stored_evaluation(holder.digest, stored.data_version)
    notes: tuple[str, ...] = ()
    if baseline is None:
        where = stored.data_version or "the unversioned rows of the candidate's evaluation"
        notes = (
            f"version {holder.version} has no evaluation on {where}; pass data= to evaluate both",
        )
    return _Evidence(stored, baseline, notes)


def _baseline_part(stored: EvaluationResult, holder: ModelVersion) -> EvaluationResult:
    """The holder's side of an evaluation that already scored it as the baseline."""
    return EvaluationResult(
        model_uri=holder.uri,
        task=stored.task,
        target=stored.target,
        n_rows=stored.n_rows,
        metrics=stored.baseline_metrics or {},
        intervals=stored.baseline_intervals or {},
        slices=stored.baseline_slices or {},
        data_version=stored.data_version,
        model_digest=holder.digest,
        evaluation_id=stored.evaluation_id,
    )


def _dry_run(
    candidate: ModelVersion,
    holder: ModelVersion | None,
    alias: str,
    results: tuple[GateResult, ...],
    evidence: _Evidence,
    passed: bool,
) -> PromotionResult:
    failed = [r.expression for r in results if not r.passed]
    why = (
        f"would promote: all {len(results)} gates pass"
        if passed
        else f"would refuse: {len(failed)} of {len(results)} gates failed: {', '.join(failed)}"
    )
    return PromotionResult(
        promoted=False,
        name=candidate.name,
        version=candidate.version,
        alias=alias,
        previous_version=holder.version if holder is not None else None,
        gates=results,
        reason=why,
        evaluation_id=evidence.candidate.evaluation_id if evidence.candidate else None,
        baseline_evaluation_id=evidence.baseline.evaluation_id if evidence.baseline else None,
        evaluation=evidence.candidate,
    )


def _decide(
    candidate: ModelVersion,
    holder: ModelVersion | None,
    alias: str,
    results: tuple[GateResult, ...],
    evidence: _Evidence,
    passed: bool,
    force: bool,
    reason: str | None,
) -> PromotionResult:
    store = default_workspace().store
    name = candidate.name
    previous = holder.version if holder is not None else None
    failed = [r.expression for r in results if not r.passed]
    evaluation_id = evidence.candidate.evaluation_id if evidence.candidate else None
    baseline_id = evidence.baseline.evaluation_id if evidence.baseline else None
    data: dict[str, Any] = {
        "version": candidate.version,
        "gates": [r.to_dict() for r in results],
        "evaluation_id": evaluation_id,
        "baseline_evaluation_id": baseline_id,
        "data_version": evidence.candidate.data_version if evidence.candidate else None,
        "forced": force and not passed,
        "notes": list(evidence.notes),
    }
    base = PromotionResult(
        promoted=False,
        name=name,
        version=candidate.version,
        alias=alias,
        previous_version=previous,
        gates=results,
        reason="",
        evaluation_id=evaluation_id,
        baseline_evaluation_id=baseline_id,
        evaluation=evidence.candidate,
    )
    if not passed and not force:
        why = f"{len(failed)} of {len(results)} gates failed: {', '.join(failed)}"
        event = store.events.add(
            NewEvent(
                kind="promotion_refused",
                subject=subject(name),
                actor=actor(),
                reason=reason or why,
                data={**data, "alias": alias, "from_version": previous, "to_version": previous},
            )
        )
        return replace(base, reason=why, event_id=event.event_id)
    forced = not passed
    why = (
        f"forced past {len(failed)} failed gates: {reason}"
        if forced
        else f"all {len(results)} gates passed"
        if results
        else "no gates declared"
    )
    event = store.models.set_alias(
        name,
        alias,
        candidate.version,
        event=NewEvent(
            kind="promotion_forced" if forced else "promotion",
            subject=subject(name),
            actor=actor(),
            reason=reason or why,
            data=data,
        ),
        if_current=previous,
    )
    if evidence.candidate is not None and evidence.candidate.evaluation_id and not forced:
        store.models.update_version(
            name, candidate.version, evaluation_id=evidence.candidate.evaluation_id
        )
    return replace(base, promoted=True, reason=why, forced=forced, event_id=event.event_id)


def rollback(name: str, alias: str = "champion", *, reason: str | None = None) -> PromotionResult:
    """Move ``alias`` back to the version that held it before the current one."""
    store = default_workspace().store
    holder = _holder(name, alias)
    if holder is None:
        raise NotFound(
            f"model {name!r} has no {alias!r} to roll back",
            field="alias",
            value=alias,
        )
    previous = _previous_holder(name, alias, holder.version)
    if previous is None:
        raise Conflict(
            f"{alias!r} of {name!r} has no earlier version to roll back to",
            field="alias",
            value=alias,
            hint=f"set it by hand: loopml models alias {name} {alias} <version>",
        )
    store.models.version(name, previous)  # NotFound when that version was deleted since
    why = reason or f"rolled back from version {holder.version}"
    event = store.models.set_alias(
        name,
        alias,
        previous,
        event=NewEvent(
            kind="rollback",
            subject=subject(name),
            actor=actor(),
            reason=why,
            data={"rolled_back_version": holder.version},
        ),
        if_current=holder.version,
    )
    return PromotionResult(
        promoted=True,
        name=name,
        version=previous,
        alias=alias,
        previous_version=holder.version,
        gates=(),
        reason=why,
        event_id=event.event_id,
    )


# Rollbacks are not among them: rolling back twice walks further back instead of undoing itself.
_MOVES = ("promotion", "promotion_forced", "alias_set")


def _previous_holder(name: str, alias: str, current: int) -> int | None:
    """The version ``alias`` held before ``current`` was promoted to it (from the event log)."""
    for event in default_workspace().store.events.list(subject=subject(name), limit=10_000):
        if event.kind not in _MOVES or event.data.get("alias") != alias:
            continue
        if event.data.get("to_version") == current:
            before = event.data.get("from_version")
            return int(before) if before is not None else None
    return None
