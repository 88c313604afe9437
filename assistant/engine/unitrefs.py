"""Units in a question: the plans' unit names (and the shortenings people use), the role asked
(牵头 / 责任), and names shaped like a unit's that no plan lists ("宣传科牵头了哪几条")."""
from __future__ import annotations

import re

from .evidence import UNIT_SUFFIX, Vocabulary

# A pronoun standing for a unit the same question named in an earlier clause.
UNIT_PRONOUN = re.compile(r"^(?:那|那么)?(?:它们|它|他们|该科室|这个科室|该单位|这个单位)")
ROLE_LEAD = re.compile(r"牵头|主责|挂帅|领衔")
ROLE_RESP = re.compile(r"责任科室|责任单位|责任栏|配合|参与|协办|协助|协同|一起|还有谁|还有哪些科室|还有哪些单位|要负责|也负责|挂在")
ROLE_OTHERS = re.compile(r"除了|除牵头|以外|之外|还有(?:谁|哪些|哪几)")
# A name ending as units' names do, right before what a unit does in a plan ("宣传科牵头", "由安全科负责").
UNIT_LIKE = re.compile(r"([\u4e00-\u9fff]{1,8}?(?:科|股|处|办|中心|办公室))(?:来|去|还|都|也|又|主要|具体|在)?"
                       r"(?:牵头|负责|参与|配合|承担|分管|主管)")
# What may precede such a name without being part of it ("要点里", "请问", "由", "那个").
NAME_BOUNDARY = re.compile(r"要点|计划|文件|里|中(?!心)|的|是|由|归|让|被|和|与|跟|及|或|请问|问下|那么|那个|这个|就是")
# Not a name: a question word or a determiner before the suffix ("哪个科", "各科", "该处").
NOT_A_NAME = re.compile(r"^(?:哪|什么|啥|各|该|本|每|某|其他|其它|别的|相关|对应|具体|同一|几个)")


def find_units(text: str, vocab: Vocabulary) -> list[str]:
    """Unit names in a text (canonical), longest first, without overlaps; nicknames that are the tail
    of one unit's name ("师训科" for 人事师训科) or its stem ("计财" for 计财科) count too."""
    from .. import units as unitlib

    found: list[tuple[int, str]] = []
    taken = [False] * len(text)

    def claim(start: int, end: int, name: str) -> None:
        if any(taken[start:end]):
            return
        for k in range(start, end):
            taken[k] = True
        found.append((start, unitlib.normalise_unit(name)))

    for name in vocab.unit_names:
        for m in re.finditer(re.escape(name), text):
            claim(m.start(), m.end(), name)
    for part, name, is_stem in vocab.unit_nicknames:
        if part in text:
            for m in re.finditer(re.escape(part), text):
                # a bare stem ("计财") names the unit only as a word of its own, not inside a topic
                # word ("党建工作", "督导评估")
                if is_stem and not re.match(r"$|[那这牵负配参在今的，。？?、和与及也还都]", text[m.end():]):
                    continue
                claim(m.start(), m.end(), name)
    found.sort()
    return list(dict.fromkeys(n for _, n in found))



def unlisted_units(text: str, vocab: Vocabulary, named: list[str]) -> list[str]:
    """Names shaped like a unit's and doing what units do ("宣传科牵头了哪几条") that are no unit the
    plans list, nor a shortening of one: asking what such a unit leads has no answer in the plans.
    A name sharing two characters with a listed unit ("电教中心" ~ 市电教技装中心) is taken as an
    informal name for it, not as unlisted."""
    out: list[str] = []
    for m in UNIT_LIKE.finditer(text):
        name = NAME_BOUNDARY.split(m.group(1))[-1]
        for place in vocab.place_names:
            name = name.split(place)[-1]
        stem = UNIT_SUFFIX.sub("", name)
        if len(stem) < 2 or NOT_A_NAME.match(name) or find_units(name, vocab):
            continue
        if any(stem[k:k + 2] in unit for k in range(len(stem) - 1) for unit in vocab.unit_names + named):
            continue
        out.append(name)
    return list(dict.fromkeys(out))


def unit_role(text: str) -> str | None:
    lead, resp, others = bool(ROLE_LEAD.search(text)), bool(ROLE_RESP.search(text)), bool(ROLE_OTHERS.search(text))
    if others and (lead or resp):
        return "others"
    if lead and resp:
        return "any"
    if lead:
        return "lead"
    if resp:
        return "responsible"
    return None
