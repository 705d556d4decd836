"""Use cases of pipelines and their stages: create, rename, make default, add, change, reorder and remove stages.

A pipeline always has exactly one won stage, one lost stage and at least one open stage, so a deal can always be
won, lost or moved on. A stage holding a deal (open or closed) cannot be removed.
"""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import Deal, Pipeline, Stage

DEFAULT_STAGES = (
    {"name": "Qualification", "probability": 10, "kind": "open"},
    {"name": "Proposal", "probability": 40, "kind": "open"},
    {"name": "Negotiation", "probability": 70, "kind": "open"},
    {"name": "Won", "probability": 100, "kind": "won"},
    {"name": "Lost", "probability": 0, "kind": "lost"},
)
CLOSED_PROBABILITY = {"won": 100, "lost": 0}


def stages_of(session: Session, pipeline_id: str) -> list[Stage]:
    return list(session.execute(select(Stage).where(Stage.pipeline_id == pipeline_id)
                                .order_by(Stage.position, Stage.name)).scalars())


def pipeline_view(session: Session, pipeline: Pipeline) -> dict:
    """The pipeline with its stages in order, each with how many deals (any status) it holds."""
    counts = dict(session.execute(select(Deal.stage_id, func.count()).where(Deal.pipeline_id == pipeline.id)
                                  .group_by(Deal.stage_id)).all())
    stages = [{"id": s.id, "name": s.name, "position": s.position, "probability": s.probability, "kind": s.kind,
               "deal_count": counts.get(s.id, 0)} for s in stages_of(session, pipeline.id)]
    return {"id": pipeline.id, "name": pipeline.name, "currency": pipeline.currency, "active": pipeline.active,
            "is_default": pipeline.is_default, "version": pipeline.version, "created_at": pipeline.created_at,
            "updated_at": pipeline.updated_at, "stages": stages}


def _state(pipeline: Pipeline, stages: list[Stage] | None = None) -> dict:
    state = {"name": pipeline.name, "currency": pipeline.currency, "active": pipeline.active,
             "is_default": pipeline.is_default, "version": pipeline.version}
    if stages is not None:
        state["stages"] = [f"{s.position}. {s.name} ({s.kind}, {s.probability}%)" for s in stages]
    return state


def list_pipelines(session: Session, include_inactive: bool) -> list[dict]:
    stmt = select(Pipeline).order_by(Pipeline.is_default.desc(), Pipeline.name)
    if not include_inactive:
        stmt = stmt.where(Pipeline.active)
    return [pipeline_view(session, p) for p in session.execute(stmt).scalars()]


def get_pipeline(session: Session, pipeline_id: str, lock: bool = False) -> Pipeline:
    stmt = select(Pipeline).where(Pipeline.id == str(pipeline_id))
    pipeline = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if pipeline is None:
        raise NotFound("pipeline", pipeline_id)
    return pipeline


def show_pipeline(session: Session, pipeline_id: str) -> dict:
    return pipeline_view(session, get_pipeline(session, pipeline_id))


def default_pipeline(session: Session) -> Pipeline | None:
    return session.execute(select(Pipeline).where(Pipeline.is_default)).scalar_one_or_none()


def _name_free(session: Session, name: str, pipeline_id: str | None = None) -> None:
    stmt = select(Pipeline.id).where(func.lower(Pipeline.name) == name.lower())
    if pipeline_id:
        stmt = stmt.where(Pipeline.id != pipeline_id)
    if session.execute(stmt).first():
        raise Problem(409, "Pipeline exists", f"A pipeline named {name} exists.", "conflict",
                      errors=[{"field": "name", "message": "already used"}])


def _check_stage_set(stages: list[dict], field: str = "stages") -> None:
    kinds = [s["kind"] for s in stages]
    if kinds.count("won") != 1 or kinds.count("lost") != 1 or "open" not in kinds:
        raise field_error(field, "a pipeline needs open stages, exactly one won stage and exactly one lost stage")
    names = [s["name"].strip().lower() for s in stages]
    if len(set(names)) != len(names):
        raise field_error(field, "stage names must differ within a pipeline")
    for s in stages:
        expected = CLOSED_PROBABILITY.get(s["kind"])
        if expected is not None and s.get("probability", expected) != expected:
            raise field_error(field, f"a {s['kind']} stage has probability {expected}")


def _make_default(session: Session, pipeline: Pipeline) -> None:
    session.execute(update(Pipeline).where(Pipeline.is_default, Pipeline.id != pipeline.id)
                    .values(is_default=False, version=Pipeline.version + 1, updated_at=func.now()))
    session.flush()  # the partial unique index allows one default at a time
    pipeline.is_default = True


def create_pipeline(session: Session, data: dict, actor: Principal) -> dict:
    """A new pipeline with the given stages (default: Qualification, Proposal, Negotiation, Won, Lost)."""
    name = data["name"].strip()
    _name_free(session, name)
    stages = [dict(s) for s in (data.get("stages") or DEFAULT_STAGES)]
    for s in stages:
        s["name"] = s["name"].strip()
        s.setdefault("kind", "open")
        s.setdefault("probability", CLOSED_PROBABILITY.get(s["kind"], 0))
    _check_stage_set(stages)
    pipeline = Pipeline(name=name, currency=data.get("currency", "EUR"), active=data.get("active", True),
                        is_default=False, version=1)
    session.add(pipeline)
    session.flush()
    if data.get("is_default") or default_pipeline(session) is None:
        if not pipeline.active:
            raise field_error("is_default", "the default pipeline must be active")
        _make_default(session, pipeline)
    for position, s in enumerate(stages, start=1):
        session.add(Stage(pipeline_id=pipeline.id, name=s["name"], position=position,
                          probability=s["probability"], kind=s["kind"]))
    session.flush()
    session.refresh(pipeline)
    audit.record(session, audit_log, actor, "create", "pipeline", pipeline.id, None,
                 _state(pipeline, stages_of(session, pipeline.id)))
    return pipeline_view(session, pipeline)


def _changed(session: Session, pipeline: Pipeline, before: dict, action: str, actor: Principal) -> dict:
    pipeline.version += 1
    pipeline.updated_at = datetime.now(UTC)
    session.flush()
    session.expire_all()
    audit.record(session, audit_log, actor, action, "pipeline", pipeline.id, before,
                 _state(pipeline, stages_of(session, pipeline.id) if "stages" in before else None))
    return pipeline_view(session, pipeline)


def update_pipeline(session: Session, pipeline_id: str, expected_version: int, changes: dict,
                    actor: Principal) -> dict:
    """Rename, change the default currency, (de)activate or make the default pipeline."""
    pipeline = get_pipeline(session, pipeline_id, lock=True)
    check_version(pipeline.version, expected_version)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _name_free(session, changes["name"], pipeline.id)
    changed = {k: v for k, v in changes.items() if getattr(pipeline, k) != v}
    if not changed:
        return pipeline_view(session, pipeline)
    if changed.get("is_default") is False:
        raise field_error("is_default", "make another pipeline the default instead")
    active = changed.get("active", pipeline.active)
    if not active and (pipeline.is_default or changed.get("is_default")):
        raise Problem(409, "Default pipeline", "The default pipeline stays active: make another one the default "
                      "first.", "conflict", errors=[{"field": "active", "message": "the default pipeline"}])
    before = _state(pipeline)
    if changed.pop("is_default", False):
        _make_default(session, pipeline)
    for k, v in changed.items():
        setattr(pipeline, k, v)
    return _changed(session, pipeline, before, "update", actor)


def _stage_of(session: Session, pipeline: Pipeline, stage_id: str) -> Stage:
    stage = session.execute(select(Stage).where(Stage.id == str(stage_id), Stage.pipeline_id == pipeline.id)
                            .with_for_update()).scalar_one_or_none()
    if stage is None:
        raise NotFound("stage", stage_id)
    return stage


def _renumber(stages: list[Stage]) -> None:
    for position, s in enumerate(stages, start=1):
        s.position = position


def add_stage(session: Session, pipeline_id: str, data: dict, actor: Principal, expected_version: int) -> dict:
    """Add an open stage at `position` (1 = first; default: after the last open stage)."""
    pipeline = get_pipeline(session, pipeline_id, lock=True)
    check_version(pipeline.version, expected_version)  # stages are part of the pipeline's version
    stages = stages_of(session, pipeline.id)
    before = _state(pipeline, stages)
    name = data["name"].strip()
    if any(s.name.lower() == name.lower() for s in stages):
        raise field_error("name", "a stage of this pipeline has this name")
    open_count = sum(1 for s in stages if s.kind == "open")
    position = min(data.get("position") or open_count + 1, len(stages) + 1)
    stage = Stage(pipeline_id=pipeline.id, name=name, probability=data["probability"], kind="open")
    session.add(stage)
    stages.insert(position - 1, stage)
    _renumber(stages)
    return _changed(session, pipeline, before, "add_stage", actor)


def update_stage(session: Session, pipeline_id: str, stage_id: str, changes: dict, actor: Principal,
                 expected_version: int) -> dict:
    """Rename a stage or change its probability (won stays 100, lost stays 0)."""
    pipeline = get_pipeline(session, pipeline_id, lock=True)
    check_version(pipeline.version, expected_version)  # stages are part of the pipeline's version
    stage = _stage_of(session, pipeline, stage_id)
    stages = stages_of(session, pipeline.id)
    before = _state(pipeline, stages)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        if any(s.name.lower() == changes["name"].lower() and s.id != stage.id for s in stages):
            raise field_error("name", "a stage of this pipeline has this name")
    expected = CLOSED_PROBABILITY.get(stage.kind)
    if expected is not None and changes.get("probability", expected) != expected:
        raise field_error("probability", f"a {stage.kind} stage has probability {expected}")
    changed = {k: v for k, v in changes.items() if getattr(stage, k) != v}
    if not changed:
        return pipeline_view(session, pipeline)
    for k, v in changed.items():
        setattr(stage, k, v)
    return _changed(session, pipeline, before, "update_stage", actor)


def reorder_stages(session: Session, pipeline_id: str, stage_ids: list, actor: Principal,
                   expected_version: int) -> dict:
    """Put the stages in the given order; the list must name every stage of the pipeline once."""
    pipeline = get_pipeline(session, pipeline_id, lock=True)
    check_version(pipeline.version, expected_version)  # stages are part of the pipeline's version
    stages = stages_of(session, pipeline.id)
    by_id = {s.id: s for s in stages}
    wanted = [str(i) for i in stage_ids]
    if sorted(wanted) != sorted(by_id):
        raise field_error("stage_ids", "name every stage of this pipeline exactly once")
    before = _state(pipeline, stages)
    _renumber([by_id[i] for i in wanted])
    return _changed(session, pipeline, before, "reorder_stages", actor)


def remove_stage(session: Session, pipeline_id: str, stage_id: str, actor: Principal, expected_version: int) -> dict:
    """Remove an open stage that holds no deal; its name stays in the stage history of deals that passed by."""
    pipeline = get_pipeline(session, pipeline_id, lock=True)
    check_version(pipeline.version, expected_version)  # stages are part of the pipeline's version
    stage = _stage_of(session, pipeline, stage_id)  # locked: a deal cannot enter it while we look
    stages = stages_of(session, pipeline.id)
    if stage.kind != "open":
        raise Problem(409, "Stage needed", f"Every pipeline keeps its {stage.kind} stage.", "conflict")
    if sum(1 for s in stages if s.kind == "open") == 1:
        raise Problem(409, "Stage needed", "A pipeline keeps at least one open stage.", "conflict")
    held = session.execute(select(func.count()).select_from(Deal).where(Deal.stage_id == stage.id)).scalar_one()
    if held:
        raise Problem(409, "Stage holds deals", f"{held} deal(s) are in stage {stage.name}: move them first.",
                      "conflict", deal_count=held)
    before = _state(pipeline, stages)
    session.delete(stage)
    _renumber([s for s in stages if s.id != stage.id])
    return _changed(session, pipeline, before, "remove_stage", actor)
