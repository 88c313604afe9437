"""What an ask points back to: whether it does at all (`points_back`), and what a "这项改革" in it
names (`antecedent`): the phrase of the scene-setting clauses ending in 改革.

"学校要按教育评价改革调整教师考核办法，这项改革是哪个科室牵头的？" asks about 教育评价改革, not about
教师 or 考核办法, which only describe the asker's situation. The antecedent is found in the text: the
words before the head noun back to a preposition, modal or punctuation mark.
"""
from __future__ import annotations

import re

# "这项改革", "该项工作", "此类活动": a demonstrative, a measure word, and the head noun it names again.
# "这部分", "那块": a demonstrative and a part of the plan, named before as "教师队伍建设那部分".
DEMONSTRATIVE_NP = re.compile(r"(?:这|该|此|那)(?:一)?(?:(?:项|个|类|种|件)([\u4e00-\u9fff]{2})|(部分|板块|方面|块))")
# Where a noun phrase starts: after punctuation, a preposition, a modal or an auxiliary verb.
PHRASE_BOUNDARY = re.compile(r"[，,。；;：:、\s]|(?<=[里中])|按照|依照|依据|根据|按|把|对|将|在|要|想|需要|需|让|给|和|与|及|为|是|正在|准备|打算|开始|搞")
TRAILING_DEMONSTRATIVE = re.compile(r"的?(?:这|那|该|此)?(?:一)?(?:个|项|条)?$")
# The longest antecedent read (characters before the head noun).
MAX_MODIFIER_CHARS = 10
# Words pointing back to the conversation ("它", "这项", "那…", "同类").
DEICTIC = re.compile(r"^(?:那|那么|那这|这|它|该|其)|它|这项|该项|这一项|这条|该条|那项|那条|其中|上面|刚才|这个任务|这个(?=[是怎有的要咋])|同类|同样|这方面|这块|那块|这部分|那部分")
# "这几份要点", "这些地方": the plans collected, not something said before.
ALL_PLANS = re.compile(r"(?:这|那)(?:几|些|四|两|三)(?:份|个|家)?(?:地方|地区|区县|市县|教育局|教体局|局|文件|(?:教育)?(?:工作)?(?:要点|计划))")
# "讲资助的那条": the item the clause describes, not one said before.
DESCRIBED_ITEM = re.compile(r"的(?:那|这)(?:一)?(?:条|项|部分|块)")


def points_back(text: str) -> bool:
    """Whether a text refers to something said before ("这项", "它", "那"), not to the plans at hand
    or to an item it describes."""
    return bool(DEICTIC.search(DESCRIBED_ITEM.sub("", ALL_PLANS.sub("", text))))


def antecedent(ask: str, scene: str) -> str | None:
    """The phrase of `scene` that a demonstrative noun phrase of `ask` names again, or None.

    Only a head noun the scene uses counts; the phrase is its nearest use with the words before it
    ("教育评价改革" for "这项改革" after "…按教育评价改革调整…")."""
    m = DEMONSTRATIVE_NP.search(ask)
    if not m:
        return None
    head = m.group(1) or m.group(2)
    at = scene.rfind(head)
    if at < 0:
        return None
    # "教师队伍建设那部分": the demonstrative before the head in the scene is not part of the phrase
    before = TRAILING_DEMONSTRATIVE.sub("", scene[max(0, at - MAX_MODIFIER_CHARS):at])
    modifier = PHRASE_BOUNDARY.split(before)[-1]
    return modifier + head if modifier else None
