"""Small pure helpers over Chinese plan text: sentences, keywords, coverage, quotes."""
from __future__ import annotations

from collections.abc import Callable

import re


_SENT_RE = re.compile(r"[^。；！？!?\n]+[。；！？!?]?")
_CLAUSE_RE = re.compile(r"[^。；！？!?，,\n]+[。；！？!?，,]?")
NUMBER_RE = re.compile(r"\d+(?:\.\d+)?\s*(?:%|％|‰|个|所|人|名|万元|亿元|元|平方米|套|台|项|次|小时|分钟|年|月|天|周岁|岁|:|：|∶|倍|支|家|条|场|届)|\d+\s*[:：∶]\s*\d+|百分之|[一二三四五六七八九十百千万两]+(?:个|所|项|套|台)")
TIME_RE = re.compile(r"(?:\d{4}\s*年(?:底|内|前)?|\d{1,2}\s*月(?:底|初|中旬|前|份)?|年底|年内|年前|之前|以前|学期|春季|秋季|期间|前完成|底前|内完成|常态化|每月|每年|每半年|十四五)")
# Question words that carry no topic of their own.
QUESTION_NOISE = set(
    "我们 我 今年 去年 明年 现在 目前 当前 眼下 近期 最近 如今 那个 这个 那份 这份 这块 那块 里 里面 文件 工作 要点 计划 方面 情况 安排 事情 事 事项 东西 "
    "主要 具体 有没有 是否 能否 可以 需要 要 做 做些 干 干什么 做什么 怎么 怎么样 如何 怎样 分别 呢 啊 吗 "
    "科室 单位 部门 股室 牵头 负责 配合 责任 主责 谁 谁管 由 归 哪个 哪些 哪几 哪 几 多少 什么 啥 咋 时候 "
    "提到 提及 涉及 说 讲 写 内容 是 有 哪里 第 项 条 条目 部分 对 在 和 与 及 的 了 都 也 还 又 "
    "一共 总共 共 几个 多少个 各地 各个 每个 所有 地方 举措 措施 一下 告诉 请问 概括 总结 关于 打算 准备 说法 出现 "
    "落实 哪些事 要求 那条 这条 那项 这项 这事 那事 这件 那件 一部分 大部分 部分 "
    "其中 同类 同样 这方面 专门 明确 特别 硬性 一部 大部 重点 重要 主要内容 没有 有没有 是否 提没提 提了 提过 第几 几条 几项 几所 几个 几届 几分 几分钟 几年 多少钱 多长 多久 多大 多高".split()
) | set(
    # the parts of a plan and where an item sits in them ("那一大块", "放在哪个板块"): structure, not topic
    "大块 一大块 板块 大板块 模块 大项 章节 标题 大标题 下面 放在 归在 属于 "
    # the kind of statement asked for ("有何规定", "作出了哪些部署"), like 要求 and 安排 above
    "规定 部署 表述 提法 "
    # the operation requested ("比较…与…", "对比一下"): how to answer, not what about
    "比较 对比 比对 列举 列出 概述 梳理 "
    # what a comparison asks for ("有啥区别", "有何异同"): the operation again, named by its result
    "区别 差别 差异 异同 不同 不一样 一样 相同".split()
)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENT_RE.findall(text) if s.strip()]


def clauses(sentence: str) -> list[str]:
    return [c.strip() for c in _CLAUSE_RE.findall(sentence) if c.strip()]


def coverage(words: list[str], text: str, weight: Callable[[str], float] | None = None) -> float:
    """Share of topic words found in a text (0..1); `weight(word)` defaults to the word's length."""
    if not words:
        return 0.0
    weight = weight or (lambda w: min(len(w), 4))
    total = sum(weight(w) for w in words)
    found = sum(weight(w) for w in words if _contains(text, w))
    return found / total if total else 0.0


def _contains(text: str, word: str) -> bool:
    if word in text:
        return True
    # Two-character halves of a 4+-character compound ("幼儿园学位" ~ "幼儿园…学位")
    if len(word) >= 4:
        halves = [word[: len(word) // 2], word[len(word) // 2:]]
        return all(h in text for h in halves)
    return False


def best_sentences(text: str, words: list[str], want_number: bool = False, want_time: bool = False,
                   limit: int = 2, weight: Callable[[str], float] | None = None) -> list[str]:
    """The sentences of a text that carry the asked-for fact (text order kept)."""
    weight = weight or (lambda w: min(len(w), 4))
    cands = sentences(text)
    total = sum(weight(w) for w in words) or 1.0
    scored = []
    for idx, s in enumerate(cands):
        score = sum(weight(w) for w in words if w in s) / total
        score += 0.5 * sum(weight(w) for w in words if w not in s and _contains(s, w)) / total
        if want_number and NUMBER_RE.search(s):
            score += 0.6
        if want_time and TIME_RE.search(s):
            score += 0.6
        if score > 0:
            scored.append((score, idx, s))
    if not scored:
        return []
    scored.sort(key=lambda x: (-x[0], x[1]))
    top = scored[0][0]
    chosen = [x for x in scored[:limit] if x[0] >= top * 0.75 and (x is scored[0] or _adds_words(x[2], scored[0][2], words))]
    chosen.sort(key=lambda x: x[1])
    return [s for _, _, s in chosen]


def _adds_words(s: str, first: str, words: list[str]) -> bool:
    return any(w in s and w not in first for w in words) or bool(NUMBER_RE.search(s) and not NUMBER_RE.search(first))


def trim(text: str, limit: int = 90) -> str:
    text = text.strip()
    if len(text) <= limit:
        return text
    cut = text[:limit]
    for p in "。；，、":
        pos = cut.rfind(p)
        if pos >= limit * 0.6:
            return cut[: pos + 1] + "……" if p != "。" else cut[: pos + 1]
    return cut + "……"
