"""Reading a plan's title block and notice header: title, issuers, place, year, document number (pure).

A title is the line ending in 工作要点 before the first section heading, skipping the notice's
关于印发《…》的通知 lines. It may be printed over several lines — the issuers on one or two lines,
then "2021 年工作要点" — so the lines just above it that hold nothing but issuing bodies and a year
are read as part of it. When the title still names no place or no year, the file name supplies
them, with a warning, so a question naming the place can still reach the plan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath

from .parse_text import cn_number, fold_spaces

SECTION_RE = re.compile(r"^(?P<num>[一二三四五六七八九十]{1,3})\s*[、．.]\s*(?P<title>\S.*)$")
TITLE_SUFFIX_RE = re.compile(r"工作要点(?:[（(][^）)]{1,12}[）)])?$")
YEAR_RE = re.compile(r"(19|20)\d{2}(?=\s*年)")
BARE_YEAR_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
DOC_NUMBER_RE = re.compile(r"[\u4e00-\u9fff]{1,12}[〔\[［(（]\s*(?:19|20)\d{2}\s*[〕\]］)）]\s*\d{1,4}\s*号")
DATE_RE = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月(?:\s*(\d{1,2})\s*日|\s*日)?")
ORG_RE = re.compile(
    r".+?(?:教育工作委员会|教育工委|教育委员会|教育和体育局|教育体育局|教体局|教育局|教育厅|教育委|体育局|委员会|人民政府|局|厅)"
)
PLACE_SUFFIX_RE = re.compile(
    r"(?:教育和体育局|教育体育局|教体局|教育局|教育厅|教育委员会|教育委|体育局|人民政府|局|厅)$"
)
# A place written alone in a file name: 益阳市, 永顺县, 湘西州 (a CJK run ending in an administrative suffix).
PLACE_RE = re.compile(r"[\u4e00-\u9fff]{1,8}?(?:自治州|自治县|市|县|区|州|省|旗)")
NOTICE_WORDS = ("关于", "通知", "现将", "《", "》", "附件")
TITLE_BLOCK_LINES = 4  # issuer lines read above a title line that lacks them
MAX_TITLE = 60


@dataclass
class TitleBlock:
    """Where the title is (first and last line index) and its text, lines joined."""

    first: int
    last: int
    text: str


@dataclass
class PlanMeta:
    """What the title block, the header and (as a fallback) the file name say about a plan."""

    title: str
    full_title: str
    issuer: str
    co_issuers: list[str]
    place: str
    year: int | None
    doc_number: str = ""
    issue_date: str = ""
    recipients: str = ""
    warnings: list[str] = field(default_factory=list)


def find_title(lines: list[str]) -> TitleBlock | None:
    """The title block among cleaned lines, or None when no line before the first section ends in 工作要点."""
    first_heading = next((i for i, t in enumerate(lines)
                          if (m := SECTION_RE.match(t)) and cn_number(m["num"]) == 1), len(lines))
    last = None
    for i, text in enumerate(lines[:first_heading]):
        compact = fold_spaces(text)
        if len(compact) > MAX_TITLE or not TITLE_SUFFIX_RE.search(compact):
            continue
        if any(w in compact for w in NOTICE_WORDS):
            continue
        last = i
    if last is None:
        return None
    first, text = last, fold_spaces(lines[last])
    if not parse_issuers(text) or not YEAR_RE.search(text):
        first, text = _extend_upwards(lines, last, text)
    return TitleBlock(first, last, text)


def _extend_upwards(lines: list[str], last: int, text: str) -> tuple[int, str]:
    """Prepend the lines above a title line that hold only issuing bodies and/or a year."""
    first, seen = last, 0
    for i in range(last - 1, -1, -1):
        line = fold_spaces(lines[i])
        if not line:
            continue
        if seen >= TITLE_BLOCK_LINES or not _is_title_part(line):
            break
        first, text, seen = i, line + text, seen + 1
    return first, text


def _is_title_part(line: str) -> bool:
    """An issuer line of a split title: organisations and a year, nothing else (no date, no notice)."""
    if len(line) > MAX_TITLE or DATE_RE.search(line) or DOC_NUMBER_RE.search(line):
        return False
    if any(w in line for w in NOTICE_WORDS) or line.endswith((":", "：", "。")):
        return False
    rest = re.sub(r"(?:19|20)\d{2}\s*年(?:度)?", "", line)
    for org in ORG_RE.finditer(rest):
        rest = rest.replace(org.group(0), "", 1)
    return rest.strip(" 、，,") == "" and line != ""


def parse_header(header_lines: list[str]) -> dict[str, str]:
    """Document number, issue date (the header's last date: the signature) and recipients."""
    meta = {"doc_number": "", "issue_date": "", "recipients": ""}
    for line in header_lines:
        compact = fold_spaces(line)
        if not meta["doc_number"]:
            m = DOC_NUMBER_RE.search(compact)
            if m:
                meta["doc_number"] = m.group(0)
        if not meta["recipients"] and compact.endswith((":", "：")) and len(compact) < 200:
            meta["recipients"] = compact.rstrip(":：")
    for line in reversed(header_lines):
        m = DATE_RE.search(fold_spaces(line))
        if m:
            year, month, day = m.group(1), int(m.group(2)), m.group(3)
            meta["issue_date"] = f"{year}-{month:02d}" + (f"-{int(day):02d}" if day else "")
            break
    return meta


def parse_issuers(title: str) -> list[str]:
    """Issuing organisations named in a title line, in printed order."""
    body = fold_spaces(title)
    body = TITLE_SUFFIX_RE.sub("", body)
    body = re.sub(r"(?:19|20)\d{2}\s*年(?:度)?", " ", body)
    orgs: list[str] = []
    for chunk in body.split():
        orgs.extend(m.group(0) for m in ORG_RE.finditer(chunk))
    return [o for o in orgs if len(o) >= 3]


def is_party_org(name: str) -> bool:
    """中共…委员会 / …教育工委: the Party co-issuer, not the bureau the plan belongs to."""
    return name.startswith("中共") or name.endswith(("委员会", "工委")) and "教育委员会" not in name


def place_of(issuer: str) -> str:
    """达州市教育局 -> 达州市."""
    return PLACE_SUFFIX_RE.sub("", issuer)


def slug_for(place: str, year: int | None, fallback: str) -> str:
    """'达州市', 2020 -> 'dazhou-2020' (pinyin of the place without its 市/县/区 suffix)."""
    from pypinyin import lazy_pinyin

    short = re.sub(r"(?:市|县|区|州|省|旗|自治县|自治州)$", "", place) if len(place) > 2 else place
    base = "".join(lazy_pinyin(short)) if short else ""
    base = re.sub(r"[^a-z0-9]+", "", base.lower())
    if not base:
        base = re.sub(r"[^a-z0-9]+", "-", fallback.lower()).strip("-") or "plan"
    return f"{base}-{year}" if year else base


def read_meta(lines: list[str], block: TitleBlock | None, source: str) -> PlanMeta:
    """Title, issuers, place and year from the title block and header, the file name filling gaps."""
    header = [t for t in lines[: block.first if block else 0] if t]
    head = parse_header(header)
    full_title = block.text if block else ""
    warnings: list[str] = []
    issuers = parse_issuers(full_title) if full_title else []
    if not issuers:
        issuers = [o for t in header[:3] for o in parse_issuers(t)][:1]
    main = next((o for o in issuers if not is_party_org(o)), issuers[0] if issuers else "")
    co_issuers = [o for o in issuers if o != main]
    year_m = YEAR_RE.search(full_title) or YEAR_RE.search(" ".join(header))
    year = int(year_m.group(0)) if year_m else None
    title = full_title
    for co in co_issuers:
        title = title.replace(co, "")
    title = fold_spaces(title)
    place = place_of(main)

    if full_title and place and place not in title:
        # "2021年工作要点" under a header signed 益阳市教育局: the plan is that bureau's.
        title = main + title
        warnings.append(f"the title names no issuing body; '{main}' taken from the notice above it")
    stem = PurePath(source).stem
    if not full_title:
        warnings.append(f"no title line ending in 工作要点 found; title taken from the file name '{stem}'")
    if not place or year is None:
        place, year, main, title = _from_file_name(stem, place, year, main, title, warnings)
    return PlanMeta(title=title if title and title != "工作要点" else stem, full_title=full_title, issuer=main, co_issuers=co_issuers, place=place,
                    year=year, doc_number=head["doc_number"], issue_date=head["issue_date"],
                    recipients=head["recipients"], warnings=warnings)


def _from_file_name(stem: str, place: str, year: int | None, issuer: str, title: str,
                    warnings: list[str]) -> tuple[str, int | None, str, str]:
    """Fill a missing place or year from the file name ('益阳市教育局2021年工作要点.docx', '益阳-2021.txt')."""
    name = fold_spaces(stem)
    if not place:
        orgs = [o for o in parse_issuers(name) if not is_party_org(o)]
        found = place_of(orgs[0]) if orgs else ""
        if not found and (m := PLACE_RE.search(name)):
            found = m.group(0)
        if found:
            place, issuer = found, issuer or (orgs[0] if orgs else "")
            warnings.append(f"the title names no place; '{place}' taken from the file name — "
                            "correct it in the plan's metadata if wrong")
        else:
            warnings.append("the title names no place and the file name gives none: questions naming the place "
                            "cannot reach this plan until its metadata is corrected")
    if year is None:
        m = BARE_YEAR_RE.search(name)
        if m:
            year = int(m.group(0))
            warnings.append(f"the title gives no year; {year} taken from the file name")
        else:
            warnings.append("no year found in the title or the file name")
    if title and place and place not in title:
        # "2021年工作要点" becomes "益阳市教育局2021年工作要点": a title that names its plan.
        title = (issuer or place) + title
    elif not title:
        title = name if TITLE_SUFFIX_RE.search(name) or not place else f"{issuer or place}{year or ''}年工作要点"
    if year is not None and str(year) not in title:
        title = re.sub(r"工作要点", f"{year}年工作要点", title, count=1) if "工作要点" in title else title
    return place, year, issuer, title
