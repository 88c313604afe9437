"""A conversation exported as a Word document (python-docx): each question and its answer with the
citations written out, then an appendix with the full text of every cited item."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .chunks import item_label


def conversation_docx(turns: list[dict[str, Any]], lookup: Callable[[str], tuple[Any, Any] | None], path: Path,
                      title: str = "工作要点问答记录") -> Path:
    """Write `turns` (question, answer contract) to `path`; `lookup(item_id)` gives (plan, item)."""
    import docx

    document = docx.Document()
    document.add_heading(title, level=1)
    cited: list[str] = []
    for n, turn in enumerate(turns, 1):
        answer = turn.get("answer") or {}
        document.add_heading(f"问{n}：{turn.get('question', '')}", level=2)
        document.add_paragraph(answer.get("answer", "") or turn.get("error", ""))
        for c in answer.get("citations") or []:
            if c.get("id") and c["id"] not in cited:
                cited.append(c["id"])
    if cited:
        document.add_heading("附：引用条目原文", level=1)
        for item_id in cited:
            found = lookup(item_id)
            if found is None:
                continue
            plan, item = found
            document.add_heading(f"〔{plan.title}·{item_label(item)}〕{item.title}", level=2)
            if item.section:
                document.add_paragraph(" › ".join(item.section))
            if item.lead_units or item.responsible_units:
                document.add_paragraph(f"牵头单位：{'、'.join(item.lead_units) or '未列'}；"
                                       f"责任单位：{'、'.join(item.responsible_units) or '未列'}")
            for para in item.text.split("\n"):
                if para.strip():
                    document.add_paragraph(para)
    document.save(str(path))
    return path
