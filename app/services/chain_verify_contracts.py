"""`flask chain verify` for rule contracts, payments, bills and receivables: leaves vs tables.

These tables decide what money moves: which contract document runs and whether it is on,
what a run decided, whether a payment was approved or paid. The API never changes them
without a leaf, so replaying a business's leaves must give the tables back. Whoever edits a
row behind the API (switches a contract on, swaps a document, rewrites a run's decision,
marks a payment succeeded, inserts a payment) is found at the leaf that disagrees, with the
field that differs. Per business:

* ``contract.versioned``: the leaf's hash is the SHA-256 of its document's canonical JSON;
  versions count 1, 2, ... per contract; the contract_version row has the same hash, the
  leaf's actor as created_by, and a document whose SHA-256 is that hash (so it is the leaf's
  canonical document byte for byte). Every row has exactly one leaf.
* ``contract.deployed`` / ``.enabled`` / ``.disabled``, replayed per contract as
  app.contracts.service does them: deploying enables and sets the priority to the deployed
  version's; enabling or disabling needs a deployed contract in the other state and names the
  deployed version. Each leaf's hash is its version's. The contract row's deployed_version,
  enabled, deployed_by (the deployer), deployed_leaf (last deploy or enable leaf), priority
  (the deployed version's, else version 1's) and name (the latest version's) must agree.
* ``schedule.due``: once per contract and period; the row's last_period is the last one.
* ``contract.run``: its version was deployed before it, with that hash; ``trigger.hash`` is
  the RFC 9162 hash of the earlier leaf ``trigger.leaf`` as recomputed by verify, and
  ``trigger.type`` its type. The contract_run row agrees in every field the leaf states, and
  its run_leaf is this leaf. Every row has its leaf.
* ``payment.<state>``: each payment's state machine (app.payments.service.TRANSITIONS) is
  replayed from its ``payment.created`` leaf; every later leaf repeats its out_no, amount,
  payee and provider, which equal the row's. The replayed status, approval roles, approver,
  provider reference, run, target and entry equal the row. A succeeded payment's entry is in
  the log before the success and credits from_account (with the amount, and debits
  to_account, unless it reimburses a claim, which books the claim's own amount). Every row
  has its ``payment.created`` leaf. ``payment.retry`` only happens to a created payment.
* ``bill.created`` / ``bill.due`` / ``receivable.created`` / ``receivable.settled``: the
  leaves' amounts and fields equal the rows; every row has its leaf; a bill is announced due
  once, and then its payee and reference are the announced ones; a settled receivable names
  its entry.

The tables are read with a few plain SQL queries per business (runs per leaf batch, as they
can be as many as the leaves), never per leaf.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.db import db
from app.money import format_fen
from app.payments.service import TRANSITIONS
from chain.canonical import canonical_json
from chain.errors import ChainError

Problem = Callable[..., None]
STATES = frozenset(TRANSITIONS) | {s for to in TRANSITIONS.values() for s in to}
PAYMENT_FIELDS = ("out_no", "amount", "payee", "provider")
CHUNK = 5000


def _sql(query: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
    return db.execute_sql(query.replace("?", db.obj.param), tuple(params)).fetchall()


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


def _in(ids: list[int]) -> str:
    return "(" + ",".join("?" * len(ids)) + ")"


def _day(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _differs(
    problem: Problem, what: str, table: str, in_table: Any, in_log: Any, **where: Any
) -> None:
    problem(
        f"{what} differs: the {table} table says {in_table!r}, the log says {in_log!r}", **where
    )


@dataclass
class _Version:
    hash: str
    leaf: int
    actor: int | None
    priority: Any
    name: Any


@dataclass
class _Contract:
    leaf: int  # its first leaf
    versions: dict[int, _Version] = field(default_factory=dict)
    deployed: int | None = None
    deployed_by: int | None = None
    deployed_leaf: int | None = None
    enabled: bool = False
    priority: Any = None  # from the last deployment
    ever_deployed: set[int] = field(default_factory=set)
    state_leaf: int | None = None  # last deploy / enable / disable leaf
    periods: dict[str, int] = field(default_factory=dict)  # schedule period -> leaf
    last_period: tuple[str, int] | None = None


@dataclass
class _Payment:
    leaf: int  # its payment.created leaf
    fields: dict[str, Any]  # PAYMENT_FIELDS as that leaf states them
    run: Any
    target: Any
    status: str = "created"
    status_leaf: int = 0
    roles: list[str] = field(default_factory=list)
    approved_by: tuple[int | None, int] | None = None  # (actor, leaf)
    provider_ref: tuple[str, int] | None = None
    entry: tuple[Any, int] | None = None  # (entry id, succeeded leaf)


@dataclass
class _Run:
    id: int
    leaf: int
    contract: Any
    version: Any
    version_hash: Any
    trigger: dict[str, Any]
    decision: Any
    reason: Any
    actions: Any


class ContractsReplay:
    """Contracts, runs, payments, bills and receivables as the log tells them."""

    def __init__(self) -> None:
        self.contracts: dict[Any, _Contract] = {}
        self.payments: dict[Any, _Payment] = {}
        self.runs: dict[Any, int] = {}  # run id -> leaf
        self.pending_runs: list[_Run] = []
        self.bills: dict[Any, tuple[dict[str, Any], int]] = {}
        self.bills_due: dict[Any, tuple[int, Any, Any]] = {}  # bill -> (leaf, payee, reference)
        self.receivables: dict[Any, tuple[dict[str, Any], int]] = {}
        self.settled: dict[Any, tuple[Any, int]] = {}
        self.handlers: dict[str, Callable[[Problem, str, dict[str, Any], int, Any], None]] = {
            "contract.versioned": self._versioned,
            "contract.deployed": self._deployed,
            "contract.enabled": self._switched,
            "contract.disabled": self._switched,
            "contract.run": self._run,
            "schedule.due": self._schedule,
            "payment.retry": self._retry,
            "bill.created": self._bill,
            "bill.due": self._bill_due,
            "receivable.created": self._receivable,
            "receivable.settled": self._settled,
        }
        for state in STATES:
            self.handlers[f"payment.{state}"] = self._payment

    # --- one leaf at a time -----------------------------------------------------------------

    def apply(
        self, problem: Problem, kind: str, content: dict[str, Any], idx: int, actor: int | None
    ) -> None:
        """Replay one leaf, reporting what is wrong with it at ``idx``."""
        handler = self.handlers.get(kind)
        if handler is None:
            return
        try:
            handler(problem, kind, content, idx, actor)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            problem(f"{kind} content is missing or mistypes {e}", leaf=idx)

    def _versioned(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        cid, number, doc = c["contract"], c["version"], c["document"]
        try:
            digest = hashlib.sha256(canonical_json(doc)).hexdigest()
        except ChainError as e:
            problem(
                f"contract {cid} version {number}: the document is not canonical: {e}", leaf=idx
            )
            return
        if digest != c["hash"]:
            problem(
                f"contract {cid} version {number}: the hash is not the SHA-256 of the "
                "document's canonical JSON",
                leaf=idx,
                field="hash",
            )
        contract = self.contracts.setdefault(cid, _Contract(idx))
        if number in contract.versions:
            first = contract.versions[number].leaf
            problem(
                f"contract {cid} version {number} recorded twice (first at leaf {first})", leaf=idx
            )
            return
        if number != len(contract.versions) + 1:
            problem(
                f"contract {cid} version {number} follows version {len(contract.versions)}",
                leaf=idx,
            )
        contract.versions[number] = _Version(
            c["hash"], idx, actor, doc.get("priority", 100), doc.get("name")
        )

    def _version(
        self, problem: Problem, cid: Any, number: Any, hash_: Any, idx: int, what: str
    ) -> _Contract | None:
        """The contract, if the log created it and has this version with this hash."""
        contract = self.contracts.get(cid)
        if contract is None:
            problem(f"{what} contract {cid}, which the log never created", leaf=idx)
            return None
        v = contract.versions.get(number)
        if v is None:
            problem(f"{what} version {number} of contract {cid}, not in the log before", leaf=idx)
            return None
        if hash_ != v.hash:
            problem(
                f"{what} contract {cid} version {number} with hash {hash_}, but the version's "
                f"leaf {v.leaf} has {v.hash}",
                leaf=idx,
                field="hash",
            )
            return None
        return contract

    def _deployed(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        cid, number = c["contract"], c["version"]
        contract = self._version(problem, cid, number, c["hash"], idx, "deploys")
        if contract is None:
            return
        want = contract.versions[number].priority
        if c.get("priority") != want:
            problem(
                f"deploys contract {cid} with priority {c.get('priority')!r}, but version "
                f"{number} says {want!r}",
                leaf=idx,
                field="priority",
            )
        contract.deployed, contract.deployed_by, contract.deployed_leaf = number, actor, idx
        contract.enabled, contract.priority, contract.state_leaf = True, c.get("priority"), idx
        contract.ever_deployed.add(number)

    def _switched(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        cid, number, on = c["contract"], c["version"], kind == "contract.enabled"
        verb = "enables" if on else "disables"
        contract = self._version(problem, cid, number, c["hash"], idx, verb)
        if contract is None:
            return
        if contract.deployed != number:
            problem(
                f"{verb} contract {cid} at version {number}, but the log has version "
                f"{contract.deployed} deployed",
                leaf=idx,
            )
        elif contract.enabled == on:
            problem(f"{verb} contract {cid}, which is already {'on' if on else 'off'}", leaf=idx)
        contract.enabled, contract.state_leaf = on, idx
        if on:
            contract.deployed_leaf = idx

    def _schedule(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        contract = self.contracts.get(c["contract"])
        if contract is None:
            problem(f"announces contract {c['contract']}, which the log never created", leaf=idx)
            return
        period = c["period"]
        if period in contract.periods:
            problem(
                f"announces contract {c['contract']} for {period} again (first at leaf "
                f"{contract.periods[period]})",
                leaf=idx,
            )
        contract.periods[period] = idx
        contract.last_period = (period, idx)

    def _run(self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any) -> None:
        rid, cid, number, trigger = c["run"], c["contract"], c["version"], c["trigger"]
        if rid in self.runs:
            problem(f"run {rid} recorded twice (first at leaf {self.runs[rid]})", leaf=idx)
            return
        self.runs[rid] = idx
        contract = self._version(problem, cid, number, c["version_hash"], idx, f"run {rid} runs")
        if contract is not None and number not in contract.ever_deployed:
            problem(f"run {rid} runs version {number} of contract {cid}, never deployed", leaf=idx)
        elif contract is not None and (not contract.enabled or contract.deployed != number):
            # the engine re-checks under the business lock that deploy/enable/disable share
            state = f"version {contract.deployed} {'on' if contract.enabled else 'off'}"
            problem(
                f"run {rid} runs contract {cid} version {number}, but the log has it at {state}",
                leaf=idx,
            )
        t = trigger["leaf"]
        if not isinstance(t, int) or isinstance(t, bool) or not 0 <= t < idx:
            problem(f"run {rid} is triggered by leaf {t!r}, not an earlier leaf", leaf=idx)
            return
        if (
            contract is not None
            and contract.deployed_leaf is not None
            and t <= contract.deployed_leaf
        ):
            problem(
                f"run {rid} fires on leaf {t}, not after its contract was put in force at leaf "
                f"{contract.deployed_leaf}",
                leaf=idx,
            )
        self.pending_runs.append(
            _Run(
                rid,
                idx,
                cid,
                number,
                c["version_hash"],
                {"leaf": t, "hash": trigger["hash"], "type": trigger["type"]},
                c["decision"],
                c.get("reason", ""),
                c["actions"],
            )
        )

    def _payment(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        pid, to = c["payment"], kind.split(".", 1)[1]
        p = self.payments.get(pid)
        stated = {k: c[k] for k in PAYMENT_FIELDS}
        if to == "created" and "from" not in c:
            if p is not None:
                problem(f"creates payment {pid} again (first at leaf {p.leaf})", leaf=idx)
                return
            run = c.get("run")
            if run is not None and run not in self.runs:
                problem(f"payment {pid} is made by run {run}, not in the log before", leaf=idx)
            self.payments[pid] = _Payment(idx, stated, run, c.get("target"), status_leaf=idx)
            return
        if p is None:
            problem(f"moves payment {pid} to {to}, but the log never created it", leaf=idx)
            return
        for k in PAYMENT_FIELDS:
            if stated[k] != p.fields[k]:
                problem(
                    f"payment {pid}: the leaf says {stated[k]!r}, its payment.created leaf "
                    f"{p.leaf} says {p.fields[k]!r}",
                    leaf=idx,
                    field=k,
                )
                return
        if c["from"] != p.status:
            problem(
                f"moves payment {pid} from {c['from']}, but the log has it {p.status} "
                f"(since leaf {p.status_leaf})",
                leaf=idx,
            )
        elif to not in TRANSITIONS.get(p.status, ()):
            problem(f"payment {pid} cannot go from {p.status} to {to}", leaf=idx)
        p.status, p.status_leaf = to, idx
        if to == "awaiting_approval":
            p.roles = list(c.get("roles") or [])
        elif to == "created" and c.get("approved"):
            p.approved_by = (actor, idx)
        elif to == "submitted":
            p.provider_ref = (c.get("provider_ref", ""), idx)
        elif to == "succeeded":
            p.provider_ref = (c.get("reference", ""), idx)
            p.entry = (c.get("entry"), idx)

    def _retry(self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any) -> None:
        p = self.payments.get(c["payment"])
        if p is None:
            problem(f"retries payment {c['payment']}, which the log never created", leaf=idx)
        elif p.status != "created":
            problem(f"retries payment {c['payment']}, which is {p.status}", leaf=idx)

    def _bill(self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any) -> None:
        if c["bill"] in self.bills:
            problem(f"creates bill {c['bill']} again", leaf=idx)
        fields = {k: c[k] for k in ("supplier", "amount", "due_date")}
        fields.update({k: c[k] for k in ("payee", "reference") if k in c})  # since 2026-11
        self.bills[c["bill"]] = (fields, idx)

    def _bill_due(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        bill = c["bill"]
        if bill not in self.bills:
            problem(f"announces bill {bill}, which the log never created", leaf=idx)
        elif self.bills[bill][0]["amount"] != c["amount"]:
            problem(
                f"bill {bill} is due for {c['amount']!r}, but it was created for "
                f"{self.bills[bill][0]['amount']!r}",
                leaf=idx,
                field="amount",
            )
        if bill in self.bills_due:
            first = self.bills_due[bill][0]
            problem(f"announces bill {bill} again (first at leaf {first})", leaf=idx)
        self.bills_due[bill] = (idx, c["payee"], c["reference"])

    def _receivable(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        if c["receivable"] in self.receivables:
            problem(f"creates receivable {c['receivable']} again", leaf=idx)
        fields = {k: c[k] for k in ("amount", "reference")}
        self.receivables[c["receivable"]] = (fields, idx)

    def _settled(
        self, problem: Problem, kind: str, c: dict[str, Any], idx: int, actor: Any
    ) -> None:
        rid = c["receivable"]
        if rid not in self.receivables:
            problem(f"settles receivable {rid}, which the log never created", leaf=idx)
        elif rid in self.settled:
            problem(f"settles receivable {rid} again", leaf=idx)
        self.settled[rid] = (c["entry"], idx)

    # --- after each batch of leaves: the runs against their rows ----------------------------

    def end_batch(self, problem: Problem, bid: int, leaf_hash: Callable[[int], bytes]) -> None:
        """Check this batch's runs against their rows and their triggers' recomputed hashes.

        Called once the batch is in the tree, so every trigger (an earlier leaf) has its hash.
        """
        runs, self.pending_runs = self.pending_runs, []
        if not runs:
            return
        ids = [r.id for r in runs if isinstance(r.id, int)]
        rows = (
            {
                row[0]: row[1:]
                for row in _sql(
                    "SELECT r.id, r.business_id, r.contract_id, v.contract_id, v.version, v.hash, "
                    "r.trigger_leaf, r.trigger_hash, r.event_type, r.decision, r.reason, r.actions, "
                    "r.run_leaf FROM contract_run r LEFT JOIN contract_version v ON v.id = r.version_id "
                    f"WHERE r.id IN {_in(ids)}",
                    ids,
                )
            }
            if ids
            else {}
        )
        triggers = sorted({r.trigger["leaf"] for r in runs})
        types = dict(
            _sql(
                f"SELECT idx, type FROM chain_leaf WHERE business_id = ? AND idx IN {_in(triggers)}",
                [bid, *triggers],
            )
        )
        for r in runs:
            t = r.trigger["leaf"]
            if leaf_hash(t).hex() != r.trigger["hash"]:
                problem(
                    f"run {r.id}: trigger.hash is not the hash of leaf {t} recomputed from the log",
                    leaf=r.leaf,
                    field="trigger.hash",
                )
            elif types.get(t) != r.trigger["type"]:
                problem(
                    f"run {r.id}: trigger.type says {r.trigger['type']!r}, leaf {t} is a "
                    f"{types.get(t)!r}",
                    leaf=r.leaf,
                    field="trigger.type",
                )
            row = rows.get(r.id)
            if row is None or row[0] != bid:
                problem(
                    f"run {r.id} is in the log but not in this business's contract_run table",
                    leaf=r.leaf,
                )
                continue
            _, contract, v_contract, v_number, v_hash, t_leaf, t_hash, kind, dec, why, acts, at = (
                row
            )
            try:
                actions = json.loads(acts)
            except (TypeError, ValueError):
                actions = acts
            reason = r.reason[:300] if isinstance(r.reason, str) else r.reason
            for name, table, logged in (
                ("contract", contract, r.contract),
                (
                    "version",
                    (v_contract, v_number, v_hash),
                    (r.contract, r.version, r.version_hash),
                ),
                ("trigger.leaf", t_leaf, t),
                ("trigger.hash", t_hash, r.trigger["hash"]),
                ("trigger.type", kind, r.trigger["type"]),
                ("decision", dec, r.decision),
                ("reason", why, reason),
                ("actions", actions, r.actions),
                ("leaf", at, r.leaf),
            ):
                if table != logged:
                    _differs(
                        problem,
                        f"run {r.id}",
                        "contract_run",
                        table,
                        logged,
                        leaf=r.leaf,
                        field=name,
                    )
                    break

    # --- after the last leaf: everything else against the tables ----------------------------

    def finish(self, problem: Problem, bid: int, entry_leaves: dict[int, int]) -> None:
        """Compare the replayed state with the tables; rows without leaves are problems too."""
        self._check_contracts(problem, bid)
        self._check_versions(problem, bid)
        for rid, cid in _sql(
            "SELECT id, contract_id FROM contract_run WHERE business_id = ? ORDER BY id", (bid,)
        ):
            if rid not in self.runs:
                problem(f"contract_run {rid} (contract {cid}) has no contract.run leaf")
        self._check_payments(problem, bid, entry_leaves)
        self._check_bills(problem, bid)
        self._check_receivables(problem, bid)

    def _check_contracts(self, problem: Problem, bid: int) -> None:
        rows = {
            row[0]: row[1:]
            for row in _sql(
                "SELECT id, name, priority, enabled, deployed_version, deployed_by_id, "
                "deployed_leaf, last_period FROM contract WHERE business_id = ?",
                (bid,),
            )
        }
        for cid, c in self.contracts.items():
            row = rows.get(cid)
            if row is None:
                problem(f"contract {cid} is in the log but not in the contract table", leaf=c.leaf)
                continue
            name, priority, enabled, deployed, deployed_by, deployed_leaf, last_period = row
            latest = c.versions[max(c.versions)] if c.versions else None
            first = c.versions.get(1)
            at = c.state_leaf if c.state_leaf is not None else c.leaf
            for what, table, logged, leaf in (
                ("enabled", bool(enabled), c.enabled, at),
                ("deployed_version", deployed, c.deployed, at),
                ("deployed_by", deployed_by, c.deployed_by, at),
                ("deployed_leaf", deployed_leaf, c.deployed_leaf, at),
                (
                    "priority",
                    priority,
                    c.priority if c.deployed is not None else (first and first.priority),
                    at,
                ),
                ("name", name, latest and latest.name, latest.leaf if latest else c.leaf),
                (
                    "last_period",
                    last_period or "",
                    c.last_period[0] if c.last_period else "",
                    c.last_period[1] if c.last_period else c.leaf,
                ),
            ):
                if table != logged:
                    _differs(
                        problem, f"contract {cid}", "contract", table, logged, leaf=leaf, field=what
                    )
        for cid in sorted(set(rows) - set(self.contracts)):
            problem(f"contract {cid} exists with no contract.versioned leaf")

    def _check_versions(self, problem: Problem, bid: int) -> None:
        seen: set[tuple[Any, Any]] = set()
        for cid, number, hash_, document, created_by in _sql(
            "SELECT contract_id, version, hash, document, created_by_id FROM contract_version "
            "WHERE business_id = ? ORDER BY contract_id, version",
            (bid,),
        ):
            seen.add((cid, number))
            c = self.contracts.get(cid)
            v = c.versions.get(number) if c else None
            if v is None:
                problem(f"contract {cid} version {number} exists with no contract.versioned leaf")
                continue
            what = f"contract {cid} version {number}"
            if hash_ != v.hash:
                _differs(
                    problem, what, "contract_version", hash_, v.hash, leaf=v.leaf, field="hash"
                )
            elif hashlib.sha256(document.encode("utf-8")).hexdigest() != v.hash:
                problem(
                    f"{what}: the document in the contract_version table is not the one the log "
                    "recorded (its SHA-256 is not the version's hash)",
                    leaf=v.leaf,
                    field="document",
                )
            elif created_by != v.actor:
                _differs(
                    problem,
                    what,
                    "contract_version",
                    created_by,
                    v.actor,
                    leaf=v.leaf,
                    field="created_by",
                )
        for cid, c in self.contracts.items():
            for number, v in c.versions.items():
                if (cid, number) not in seen:
                    problem(
                        f"contract {cid} version {number} is in the log but not in the "
                        "contract_version table",
                        leaf=v.leaf,
                    )

    def _check_payments(self, problem: Problem, bid: int, entry_leaves: dict[int, int]) -> None:
        rows = {
            row[0]: row[1:]
            for row in _sql(
                "SELECT id, out_no, amount, payee, provider, status, run_id, target_kind, "
                "target_id, approval_roles, approved_by_id, provider_ref, entry_id, "
                "from_account, to_account FROM payment WHERE business_id = ?",
                (bid,),
            )
        }
        succeeded: dict[Any, tuple[_Payment, Any]] = {}
        for pid, p in self.payments.items():
            row = rows.get(pid)
            if row is None:
                problem(f"payment {pid} is in the log but not in the payment table", leaf=p.leaf)
                continue
            (out_no, amount, payee, provider, status, run, kind, target_id, roles, approver,
             ref, entry, from_account, to_account) = row  # fmt: skip
            target = {"kind": kind, "id": target_id} if kind else None
            ref_leaf = p.provider_ref[1] if p.provider_ref else p.leaf
            entry_leaf = p.entry[1] if p.entry else p.leaf
            for what, table, logged, leaf in (
                ("out_no", out_no, p.fields["out_no"], p.leaf),
                ("amount", format_fen(amount), p.fields["amount"], p.leaf),
                ("payee", payee, p.fields["payee"], p.leaf),
                ("provider", provider, p.fields["provider"], p.leaf),
                ("run", run, p.run, p.leaf),
                ("target", target, p.target, p.leaf),
                ("status", status, p.status, p.status_leaf),
                ("approval_roles", [r for r in roles.split(",") if r], p.roles, p.leaf),
                (
                    "approved_by",
                    approver,
                    p.approved_by[0] if p.approved_by else None,
                    p.approved_by[1] if p.approved_by else p.leaf,
                ),
                ("provider_ref", ref, p.provider_ref[0] if p.provider_ref else "", ref_leaf),
                ("entry", entry, p.entry[0] if p.entry else None, entry_leaf),
            ):
                if table != logged:
                    _differs(
                        problem, f"payment {pid}", "payment", table, logged, leaf=leaf, field=what
                    )
                    break
            else:
                if p.entry is not None:
                    succeeded[pid] = (p, (kind, amount, from_account, to_account))
        for pid in sorted(set(rows) - set(self.payments)):
            problem(f"payment {pid} ({rows[pid][4]}) exists with no payment.created leaf")
        self._check_payment_entries(problem, succeeded, entry_leaves)

    def _check_payment_entries(
        self,
        problem: Problem,
        succeeded: dict[Any, tuple[_Payment, Any]],
        entry_leaves: dict[int, int],
    ) -> None:
        """A succeeded payment's entry is logged before the success and moves its money."""
        moves: dict[int, list[tuple[str, int, int]]] = {}
        ids = sorted({p.entry[0] for p, _ in succeeded.values() if isinstance(p.entry[0], int)})
        for chunk in _chunks(ids):
            for eid, code, debit, credit in _sql(
                "SELECT l.entry_id, a.code, l.debit, l.credit FROM entry_line l "
                f"JOIN account a ON a.id = l.account_id WHERE l.entry_id IN {_in(chunk)}",
                chunk,
            ):
                moves.setdefault(eid, []).append((code, debit, credit))
        for pid, (p, (kind, amount, from_account, to_account)) in succeeded.items():
            eid, leaf = p.entry  # type: ignore[misc]
            if eid not in entry_leaves or entry_leaves[eid] > leaf:
                problem(
                    f"payment {pid} succeeded with entry {eid}, which is not posted in this "
                    "business's log before it",
                    leaf=leaf,
                    field="entry",
                )
                continue
            lines = moves.get(eid, [])
            credited = sum(c for code, _d, c in lines if code == from_account)
            debited = sum(d for code, d, _c in lines if code == to_account)
            if kind == "claim" and credited > 0:
                continue
            if credited != amount or (kind != "claim" and debited != amount):
                problem(
                    f"payment {pid} of {format_fen(amount)} succeeded with entry {eid}, which "
                    f"credits {from_account} {format_fen(credited)} and debits {to_account} "
                    f"{format_fen(debited)}",
                    leaf=leaf,
                    entry_id=eid,
                )

    def _check_bills(self, problem: Problem, bid: int) -> None:
        rows = {
            row[0]: row[1:]
            for row in _sql(
                "SELECT id, supplier, amount, due_date, due_announced, payee, reference FROM bill "
                "WHERE business_id = ?",
                (bid,),
            )
        }
        for bill, (fields, idx) in self.bills.items():
            row = rows.get(bill)
            if row is None:
                problem(f"bill {bill} is in the log but not in the bill table", leaf=idx)
                continue
            supplier, amount, due, announced, payee, reference = row
            for what, table in (
                ("supplier", supplier),
                ("amount", format_fen(amount)),
                ("due_date", _day(due)),
                ("payee", payee),
                ("reference", reference),
            ):
                if what in fields and table != fields[what]:
                    _differs(
                        problem, f"bill {bill}", "bill", table, fields[what], leaf=idx, field=what
                    )
                    break
            due_leaf = self.bills_due.get(bill)
            if (announced is not None) != (due_leaf is not None):
                problem(
                    f"bill {bill}: due_announced is {_day(announced)!r}, but the log "
                    f"{'announces it' if due_leaf else 'never announces it'}",
                    leaf=due_leaf[0] if due_leaf else idx,
                    field="due_announced",
                )
            elif due_leaf is not None:
                # the announcement states the payee and reference as they were when it was paid
                for what, table, logged in (
                    ("payee", payee or f"supplier:{supplier}", due_leaf[1]),
                    ("reference", reference, due_leaf[2]),
                ):
                    if table != logged:
                        _differs(
                            problem,
                            f"bill {bill}",
                            "bill",
                            table,
                            logged,
                            leaf=due_leaf[0],
                            field=what,
                        )
                        break
        for bill in sorted(set(rows) - set(self.bills)):
            problem(f"bill {bill} exists with no bill.created leaf")

    def _check_receivables(self, problem: Problem, bid: int) -> None:
        rows = {
            r: rest
            for r, *rest in _sql(
                "SELECT id, amount, reference, status, entry_id FROM receivable "
                "WHERE business_id = ?",
                (bid,),
            )
        }
        for rid, (fields, idx) in self.receivables.items():
            row = rows.get(rid)
            if row is None:
                problem(f"receivable {rid} is in the log but not in the receivable table", leaf=idx)
                continue
            amount, reference, status, entry = row
            settled = self.settled.get(rid)
            at = settled[1] if settled else idx
            for what, table, logged, leaf in (
                ("amount", format_fen(amount), fields["amount"], idx),
                ("reference", reference, fields["reference"], idx),
                ("status", status, "settled" if settled else status, at),
                ("entry", entry, settled[0] if settled else None, at),
            ):
                if table != logged or (what == "status" and status == "settled" and not settled):
                    if not settled and what == "status":
                        logged = "not settled"
                    _differs(
                        problem,
                        f"receivable {rid}",
                        "receivable",
                        table,
                        logged,
                        leaf=leaf,
                        field=what,
                    )
                    break
        for rid in sorted(set(rows) - set(self.receivables)):
            problem(f"receivable {rid} exists with no receivable.created leaf")
