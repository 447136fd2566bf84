"""Which imported version a run belongs to, for upstreams whose runs do not say.

RapidPro runs and Twilio Studio executions name their flow but not the revision they ran, and
their paths name nodes (RapidPro node uuids, Studio widget names) that several revisions share.
A run is given the newest version published at or before it started whose steps hold every node
of its path; failing that, the newest version that holds them all; failing that, the flow's
current version (unknown nodes become generic steps of it). A flow with no definition at all gets
one version, "Runs without a definition", whose steps are the nodes its runs went through.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from flowdesk.core.formats.common import iso_epoch
from flowdesk.core.records import parse_timestamp

NO_DEFINITION_NAME = "Runs without a definition"
GENERIC_STEP_TYPE = "UNKNOWN"


@dataclass(slots=True)
class KnownVersion:
    id: str
    flow_id: str
    published_at: int | None
    payload: dict[str, Any]  # the ``flow_version`` object runs embed
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # node → step definition

    def _learn(self, definition: Any) -> None:
        node = definition.get("node") if isinstance(definition, dict) else None
        if isinstance(node, str):
            self.steps[node] = definition


def step_id(version_id: str, node: str) -> str:
    """Step ids are per version: revisions share node uuids, the cache's step ids are unique."""
    return f"{version_id}/{node}"


def generic_step(version_id: str, node: str, ordering: int) -> dict[str, Any]:
    return {
        "id": step_id(version_id, node),
        "node": node,
        "name": f"Node {node[:8]}",
        "step_type": GENERIC_STEP_TYPE,
        "ordering_idx": ordering,
        "next_step_default": "",
        "next_step_alternate": "",
        "next_steps_for_options": [],
    }


class Catalogue:
    """The versions known so far (from the cache and from the file being imported)."""

    def __init__(self) -> None:
        self.flows: dict[str, dict[str, Any]] = {}
        self.versions: dict[str, list[KnownVersion]] = {}

    @classmethod
    def from_db(cls, db: sqlite_utils.Database) -> Catalogue:
        """What a desktop cache holds (the sync engine's ``SyncState.catalogue``)."""
        catalogue = cls()
        for flow_id, name, trigger, current in db.execute(
            "SELECT id, name, trigger_type, current_version_id FROM flows"
        ):
            catalogue.flows[flow_id] = {
                "id": flow_id,
                "name": name,
                "trigger_type": trigger or "",
                "current_version": current,
            }
        by_id: dict[str, KnownVersion] = {}
        for vid, flow_id, name, description, published_at, current in db.execute(
            "SELECT id, flow_id, name, description, published_at, is_current FROM versions"
            " ORDER BY flow_id, published_at, id"
        ):
            payload = {
                "id": vid,
                "version_name": name,
                "version_description": description,
                "is_current_version": bool(current),
            }
            if published_at is not None:
                payload["created_on"] = iso_epoch(published_at)
            version = KnownVersion(vid, flow_id, published_at, payload)
            by_id[vid] = version
            catalogue.versions.setdefault(flow_id, []).append(version)
        for version_id, definition in db.execute(
            "SELECT version_id, definition FROM steps WHERE definition IS NOT NULL"
        ):
            version = by_id.get(version_id)
            if version is not None:
                version._learn(json.loads(definition))
        return catalogue

    @classmethod
    def from_records(
        cls,
        flows: Iterable[dict[str, Any]],
        versions: Iterable[tuple[str, dict[str, Any]]],
        steps: Iterable[tuple[str, dict[str, Any]]],
    ) -> Catalogue:
        """What is stored in the upstream's own shape: ``flow`` objects, ``(flow id,
        flow_version)`` and ``(version id, step definition)`` pairs (the team server's tables,
        ``SyncState.catalogue`` of ``flowdesk server sync``)."""
        catalogue = cls()
        for flow in flows:
            catalogue.flows[flow["id"]] = flow
        by_id: dict[str, KnownVersion] = {}
        for flow_id, payload in versions:
            created = payload.get("created_on")
            version = KnownVersion(
                payload["id"], flow_id, parse_timestamp(created) if created else None, payload
            )
            by_id[version.id] = version
            catalogue.versions.setdefault(flow_id, []).append(version)
        for flow_id, known in catalogue.versions.items():
            known.sort(key=lambda v: (v.published_at or 0, v.id))
            # The flow says which version is current: a version stored before a newer one
            # replaced it may still carry is_current_version.
            current = (catalogue.flows.get(flow_id) or {}).get("current_version")
            if current and any(v.id == current for v in known):
                for version in known:
                    version.payload["is_current_version"] = version.id == current
        for version_id, definition in steps:
            version = by_id.get(version_id)
            if version is not None:
                version._learn(definition)
        return catalogue

    def add_definition(self, record: dict[str, Any]) -> None:
        """Learn a ``definition`` record (flow, flow_version, steps) about to be imported."""
        flow = record["flow"]
        payload = record["flow_version"]
        created = payload.get("created_on")
        version = KnownVersion(
            payload["id"],
            flow["id"],
            parse_timestamp(created) if created else None,
            payload,
            {step["node"]: step for step in record["steps"] if "node" in step},
        )
        known = self.versions.setdefault(flow["id"], [])
        known[:] = [v for v in known if v.id != version.id] + [version]
        known.sort(key=lambda v: (v.published_at or 0, v.id))
        if payload.get("is_current_version"):
            for other in known:
                other.payload["is_current_version"] = other.id == version.id
        self.flows[flow["id"]] = flow

    def flow(self, flow_id: str, name: str) -> dict[str, Any]:
        known = self.flows.get(flow_id)
        if known is None:
            known = self.flows[flow_id] = {"id": flow_id, "name": name or flow_id}
        return known

    def resolve(self, flow_id: str, nodes: list[str], started_at: int) -> KnownVersion:
        """The version a run of ``flow_id`` through ``nodes`` most likely ran (see above)."""
        versions = self.versions.get(flow_id) or []
        wanted = set(nodes)
        holding = [v for v in versions if wanted <= v.steps.keys()]
        before = [v for v in holding if v.published_at is None or v.published_at <= started_at]
        chosen = (
            (before or holding or [])[-1:]
            or [v for v in versions if v.payload.get("is_current_version")][-1:]
            or versions[-1:]
        )
        if chosen:
            version = chosen[0]
        else:
            vid = f"{flow_id}@runs"
            version = KnownVersion(
                vid,
                flow_id,
                None,
                {
                    "id": vid,
                    "version_name": NO_DEFINITION_NAME,
                    "version_description": "Import the flow's definition to see all its steps",
                    "is_current_version": True,
                },
            )
            self.versions[flow_id] = [version]
        for node in nodes:
            if node not in version.steps:
                version.steps[node] = generic_step(version.id, node, 10_000 + len(version.steps))
        return version
