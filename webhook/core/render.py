"""Text for people: the tables of ``status`` and ``audit``, the call graph as Mermaid or Graphviz dot."""

from __future__ import annotations

from collections.abc import Sequence

from webhook.core.consumers import Consumer
from webhook.core.findings import Finding
from webhook.core.graph import Graph
from webhook.core.handover import Handover
from webhook.core.report import MirrorStatus, ProxyStatus, WorkloadPlan


def mermaid(graph: Graph) -> str:
    """Mermaid flowchart (renders on code-hosting pages)."""
    ids = {identity: f"n{index}" for index, identity in enumerate(_identities(graph))}
    lines = ["flowchart LR"]
    for namespace, members in graph.namespaces.items():
        lines.append(f'  subgraph {_safe(namespace)}["namespace {namespace}"]')
        for identity, label in members:
            shape = f'{{{{"{label}{graph.kind(identity)}"}}}}' if identity in graph.proxies else f'["{label}"]'
            lines.append(f"    {ids[identity]}{shape}")
        lines.append("  end")
    for edge in graph.edges:
        arrow = "-.->|proxy for|" if edge.dashed else "-->"
        lines.append(f"  {ids[edge.caller]} {arrow} {ids[edge.service]}")
    return "\n".join(lines) + "\n"


def dot(graph: Graph) -> str:
    """Graphviz dot."""
    ids = {identity: f"n{index}" for index, identity in enumerate(_identities(graph))}
    lines = ["digraph nsmigrate {", "  rankdir=LR;", '  node [fontname="Helvetica", shape=box];']
    for index, (namespace, members) in enumerate(graph.namespaces.items()):
        lines.append(f'  subgraph cluster_{index} {{ label="namespace {namespace}";')
        for identity, label in members:
            style = ', style="dashed,rounded", color=gray40' if identity in graph.proxies else ""
            suffix = graph.kind(identity)
            lines.append(f'    {ids[identity]} [label="{label}{suffix}"{style}];')
        lines.append("  }")
    for edge in graph.edges:
        style = ' [style=dashed, label="proxy for"]' if edge.dashed else ""
        lines.append(f"  {ids[edge.caller]} -> {ids[edge.service]}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _identities(graph: Graph) -> list[str]:
    return [identity for members in graph.namespaces.values() for identity, _ in members]


def _safe(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def table(header: list[str], rows: list[list[str]]) -> str:
    """Columns as kubectl prints them."""
    if not rows:
        return "No resources found."
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = (
        "   ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)) for row in [header, *rows]
    )
    return "\n".join(line.rstrip() for line in lines)


def status_text(
    proxies: list[ProxyStatus],
    waiting: list[Handover],
    mirrored: Sequence[MirrorStatus] = (),
    *,
    findings: Sequence[Finding] = (),
    consumers: Sequence[Consumer] = (),
) -> str:
    """``nsmigrate status`` as a person reads it: the proxies, the Services that depend on nsmigrate to
    keep serving, then what awaits its handover."""
    text = table(
        ["PROXY", "TARGET", "STATE", "SAFE TO DELETE", "CALLERS"],
        [
            [
                p.proxy,
                p.target + ("" if p.target_exists else " (gone)"),
                p.state + ("" if p.kind == "proxy" else f" ({p.kind})"),
                "yes" if p.safe_to_delete else "no",
                "; ".join(c.describe() for c in p.callers) or "-",
            ]
            for p in proxies
        ],
    )
    if mirrored:
        rows = [
            [
                m.service,
                f"{m.type} {m.cluster_ip}",
                str(m.endpoints),
                "yes" if not m.finalize else "no: " + "; ".join(m.finalize),
                "; ".join(m.warnings) or "-",
            ]
            for m in mirrored
        ]
        text += "\n\n" + table(["MIRRORED (SERVED BY NSMIGRATE)", "TYPE/IP", "ENDPOINTS", "FINALIZE", "WARNINGS"], rows)
        text += "\n(these keep serving only while nsmigrate runs: uninstalling it freezes their endpoints)"
    if waiting:
        rows = [
            [
                h.where,
                f"{h.target.namespace}/{h.target.name}",
                "yes" if h.automatic else "by hand" if h.ready else "no",
                "; ".join(filter(None, [h.reason, h.owner_advice])),
            ]
            for h in waiting
        ]
        text += "\n\n" + table(["AWAITING HANDOVER", "NEW SERVICE", "READY", "REASON"], rows)
    if findings:
        rows = [[f.reason, f.object, "yes" if f.holds else "no", f.message] for f in findings]
        text += "\n\n" + table(["READINESS", "OBJECT", "HOLDS HANDOVER", "MESSAGE"], rows)
    if consumers:
        rows = [[c.object, c.service, c.note] for c in consumers]
        text += "\n\n" + table(["CONSUMER", "OF", "WHAT THE MOVE MEANS FOR IT"], rows)
    return text


def plan_text(plans: Sequence[WorkloadPlan]) -> str:
    """``nsmigrate plan`` as a person reads it: per workload, its rewrites, proxies, findings and notes."""
    lines = []
    for plan in plans:
        lines.append(plan.workload)
        for rewrite in plan.rewrites:
            rules = ", ".join(dict.fromkeys(rewrite.rules))
            lines.append(f"  rewrite {rewrite.where}: {rewrite.before} -> {rewrite.after} ({rules})")
        for proxy in plan.proxies:
            verb = "create proxy" if proxy.step == "create" else "handover of the live Service, once Available:"
            held = "; ".join(c.describe() for c in plan.held_by[f"{proxy.namespace}/{proxy.name}"]) or "nobody"
            lines.append(f"  {verb} {proxy.namespace}/{proxy.name} -> {proxy.target} (kept alive by {held})")
            if proxy.step == "handover":
                lines.append(
                    f"    it keeps its cluster IP, ports and node ports; its endpoints become {proxy.target}'s"
                )
        lines += [f"  {finding.reason}: {finding.message}" for finding in plan.findings]
        lines += [f"  note: {warning}" for warning in plan.warnings]
        if not (plan.rewrites or plan.proxies or plan.warnings or plan.findings):
            lines.append("  nothing to do")
    return "".join(line + "\n" for line in lines)
