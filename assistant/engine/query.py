"""Reading a question into a typed `Query`: scope, asks, references, topic and chatter.

The reader splits a question into clauses and tells apart what is asked (a clause with a question
word), what sets the scene ("学校正在搞语言文字达标建设" — its words still count as topic) and
chatter (self-description, purpose, politeness, hedges), which never becomes topic. Places, years,
item and section numbers, unit names and quoted terms are read exactly; what each ask wants is
decided by the intent model over exemplar questions (`intent_model.py`), not by keyword ladders.
"""
from __future__ import annotations

import re
from typing import Any
from dataclasses import dataclass, field

from ..models import Plan
from ..scope import Scope, resolve_scope
from .anaphora import antecedent, points_back
from .evidence import UNIT_SUFFIX, Vocabulary
from .unitrefs import UNIT_PRONOUN, find_units, unit_role, unlisted_units
from .words import in_plan_words, is_noun, is_plain_verb, topic_words

# What makes a clause a question: question words, question marks, imperative asks.
INTERROGATIVE = re.compile(
    r"哪|什么|啥|多少|谁|是否|有没有|有无|有木有|吗|如何|怎么|怎样|咋|列出|列举|列一下|列个|指出|概述|"
    r"比较|对比|是不是|查一下|查查|找找|找出|查出|数一下|捋一下|注明|讲的|写的|规定了|"
    r"多久|多长|多大|多高|何时|几时|何种|有何|为何")
# Question words that also occur in descriptions ("学校有几个残疾孩子"): still read as asking, since
# "要建几所少年军校，分别在哪" has the same shape; the intent model weighs the whole ask.
WEAK_INTERROGATIVE = re.compile(r"几|说明|分别|介绍|要求")
# Self-description and circumstance: "我是达州一所小学的校长", "作为一名校长", "我们学校是…".
SELF = re.compile(r"^(?:我|我们|本人|咱们?|作为|身为)(?!局)")
# Someone else's request the asker relays ("领导让我核一下", "有个校长问我"): the relaying is
# circumstance; what follows it ("把资助那条找出来") is read like any other clause.
RELAYED = re.compile(r"^(?:领导|同事|上级|科长|局长|主任|校长|老师|家长|有人|有个[^，,。]{0,8}?)(?:让|叫|要|请|托|问)(?:我|我们)")
# How the answer should be given ("全部列出来", "请逐项列出", "如有，请注明出处"): belongs to the ask before.
FORMAT_ONLY = re.compile(r"^(?:如有|若有|有的话)?(?:请)?(?:帮忙)?(?:全部|逐项|逐条|一一|分别|详细|简单|简要|大概)?"
                         r"(?:列出|列举|列一下|列个|说明|说说|概括|注明|标明|写出|对比|比较|比对)(?:来|出来|一下|出处|清单|来源)?$")
# Politeness, hedges and filler, removed wherever they occur.
POLITE = re.compile(
    r"请问|麻烦(?:你|您)?|谢谢|多谢|劳驾|辛苦|帮(?:我|忙)?(?=查|看|找|捋|列|数|确认|整理|梳理)|"
    r"(?:我)?(?:想|想要|希望)(?:问|知道|了解|确认|请教|查|看看|弄清楚|弄清)(?:一下|下|两件事|两点)?|"
    r"来着|到底|一下|好像|大概|记得|我有点懵|有点懵|哈$|呀|啊|吧$|嘛|^(?:在吗|在不在|你好|您好|老师好|hello|hi)+$")
# A clause saying only who the asker is ("我是邵东一所完小的校长", "我在农村当校长"): its school type
# is not the situation the ask points back to.
# The role must follow a copula or "当/任" ("我在农村当校长"): "我们学校还没有法治副校长" says what
# the school lacks, which is what it asks about.
IDENTITY = re.compile(r"^(?:(?:我|本人)[^，,有没缺]*?(?:是|当|任|系|做)|作为|身为)[^，,有没缺]*?"
                      r"(?:校长|老师|教师|园长|主任|书记|干部|家长|职工|科员|工作人员|负责人)(?:了|啦)?$")
# Who the asker is, not what they ask about, when their own situation supplies the topic.
SELF_WORDS = {"学校", "校长", "老师", "教师", "我们", "一所", "一名", "一个", "今年", "园长", "局里"}
# Nouns naming a kind of value rather than a thing ("锻炼时间", "补助标准", "普职比例"): a closed
# grammatical class; the value itself is what the answer states, the evidence need not repeat the noun.
VALUE_NOUNS = frozenset("时间 时长 时限 期限 日期 节点 比例 占比 数量 数额 人数 金额 规模 面积 频次 频率 周期 标准 指标 数字 数据".split())
# A request's opening ("请比较", "麻烦对比一下", "帮我梳理"): the verb after it is the operation asked.
REQUEST = re.compile(r"^(?:请你?|烦请|麻烦你?|帮我|帮忙|能否|可否|能不能|可不可以)")
# A clause without a subject that goes on about the asker ("想…", "打算…", "正在…").
SELF_CONTINUED = re.compile(r"^(?:也|还|都|正|正在|目前|现在|一直)?(?:想|想要|打算|准备|希望|计划|需要|要|得|在|刚|已经|正在)")
QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]")
# An ask this short after politeness is removed ("捋", "说说", "讲讲") is a bare request verb.
BARE_REQUEST_CHARS = 2
LAST_SECTION = re.compile(r"最后(?:一|那|这)?(?:个|一)?(?:大)?(?:部分|板块|块|方面)")
LAST_ITEM = re.compile(r"最后(?:一|那|这)(?:条|项|点)")
CLAUSE_SPLIT = re.compile(r"[，,。？?！!；;：:\n]|(?:另外|此外|还有就是|同时还)")


@dataclass(frozen=True)
class Ask:
    """One thing asked: the intent that answers it and the clause it was read from."""

    intent: str
    text: str
    ranked: tuple[tuple[str, float], ...] = ()  # the intent model's ranking, best first


@dataclass(frozen=True)
class Query:
    """A question read for what it points at and what it asks."""

    text: str  # the question as asked
    core: str  # without chatter: what retrieval and the intents read
    scope: Scope
    asks: tuple[Ask, ...]
    topic: tuple[str, ...]  # topic words the plans use, in question order
    unknown: tuple[str, ...]  # words of the ask that no plan uses (英语 in "英语教学")
    optional: tuple[str, ...] = ()  # topic words from the scene around an ask that has its own subject
    units: tuple[str, ...] = ()  # canonical unit names, in question order
    unlisted_units: tuple[str, ...] = ()  # names shaped like a unit's that no plan lists ("宣传科牵头…")
    role: str | None = None  # "lead" | "responsible" | "any" | "others" when units' roles are asked
    quoted: tuple[str, ...] = ()
    #: the topic's alternatives ("校服管理或校服采购", "银龄讲学计划（银龄计划）"): a record naming any names it
    alternatives: tuple[tuple[str, ...], ...] = ()
    chatter: tuple[str, ...] = ()
    last_section: bool = False
    last_item: bool = False
    elliptical: bool = False  # refers back to the conversation (它, 这项, 邵东呢？)
    inherited: tuple[str, ...] = ()  # context fields taken from the conversation
    situation: str = ""  # the asker's own situation, when it supplied the topic the ask points back to
    context: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def intent(self) -> str:
        return self.asks[0].intent

    @property
    def search_text(self) -> str:
        """What retrieval reads: the core, preceded by the asker's situation when that holds the topic."""
        return f"{self.situation}，{self.core}" if self.situation else self.core

    @property
    def unit(self) -> str | None:
        return self.units[0] if self.units else None

    @property
    def plan_ids(self) -> list[str] | None:
        return self.scope.plan_ids


@dataclass(frozen=True)
class Clause:
    text: str
    role: str  # "ask" | "context" | "chatter"
    own: bool = False  # the asker speaking of themselves ("我是…校长", "想请退休教师来支教")


def split_clauses(question: str) -> list[Clause]:
    """Clauses of a question, each marked ask / context / chatter."""
    out: list[Clause] = []
    for raw in CLAUSE_SPLIT.split(question):
        text = POLITE.sub("", raw).strip()
        if not text:
            continue
        if relay := RELAYED.search(text):
            # a relayed question ("领导让我把资助那条找出来") is asked; a relayed errand is circumstance
            rest = text[relay.end():].strip()
            out.append(Clause(rest, "ask") if INTERROGATIVE.search(rest) else Clause(text, "chatter"))
        elif INTERROGATIVE.search(text) or INTERROGATIVE.search(raw):
            out.append(Clause(text, "ask"))
        elif SELF.search(text) or (out and out[-1].own and SELF_CONTINUED.search(text)):
            # "我要摘几句放到材料里": a weak question word in a sentence about oneself asks nothing;
            # "我是乡村校长，想请退休老教师来支教": the next clause keeps the asker as its subject
            out.append(Clause(text, "chatter", own=True))
        elif WEAK_INTERROGATIVE.search(text):
            out.append(Clause(text, "ask"))
        else:
            out.append(Clause(text, "context"))
    # "政治学习的频次及研判报送的周期有何要求": two values asked in one clause are two asks
    out = [Clause(t, c.role, c.own) for c in out for t in (coordinated_asks(c.text) if c.role == "ask" else [c.text])]
    # "资助那条，帮我捋一下": a bare request verb asks about the clause before it
    for n in range(len(out) - 1, 0, -1):
        if out[n].role == "ask" and len(out[n].text) <= BARE_REQUEST_CHARS and out[n - 1].role == "context":
            out[n - 1:n + 1] = [Clause(out[n - 1].text + "，" + out[n].text, "ask")]
    if not any(c.role == "ask" for c in out) and out:
        # A statement-like question ("达州第17项", "邵东呢"): the last clause is the ask.
        last = out[-1]
        out[-1] = Clause(last.text, "ask")
    return out


# A value asked for: a noun naming one ("频次", "比例") or a question word for one ("多少", "几所", "何时").
VALUE_ASKED = re.compile("|".join(sorted(VALUE_NOUNS, key=len, reverse=True)) + r"|多少|几[个项所条次年月天人]|什么时候|何时|哪一?年")
# The item beside the one in context ("下一项", "上一条", "后一项").
RELATIVE_ITEM = re.compile(r"([上下前后])一(?:项|条)")
# An item named by number ("第17项"): two of them joined by 和 are two asks, like two values.
ITEM_REF = re.compile(r"第\s*[\d一二三四五六七八九十百两]+\s*(?:项|条)")
COORDINATOR = re.compile(r"以及|及|和|与|还有|并且")
# The question a clause ends with ("有何要求", "分别是多少"): given to a first half that lacks one.
TAIL_QUESTION = re.compile(r"(?:都|分别|各|又|还)?(?:有何|有什么|有哪些|是什么|是多少|是怎样|是如何|如何|怎么)[^，,]*$")
# Shortest half read as an ask of its own (characters).
MIN_ASK_CHARS = 4


def coordinated_asks(text: str) -> list[str]:
    """An ask clause asking two values joined by 及/和 ("A的频次及B的周期有何要求", "新增多少学位和多少
    所学校") as two asks, the first given the question the clause ends with; any other clause as is."""
    for m in COORDINATOR.finditer(text):
        left, right = text[:m.start()], text[m.end():]
        items = bool(ITEM_REF.search(left) and ITEM_REF.search(right))
        if not items and (len(left) < MIN_ASK_CHARS or len(right) < MIN_ASK_CHARS):
            continue
        if items or (VALUE_ASKED.search(left) and VALUE_ASKED.search(right)):
            tail = TAIL_QUESTION.search(right)
            if not INTERROGATIVE.search(left) and tail:
                left += tail.group(0)
            return [left, right]
    return [text]


def mask(text: str, vocab: Vocabulary) -> str:
    """The ask with its particulars replaced by placeholders, so intents generalise over them."""
    t = re.sub(r"《[^》]*》", "《计划》", text)
    t = QUOTED.sub("“某事”", t)
    for name in vocab.unit_names:
        if name in t:
            t = t.replace(name, "某科室")
    for alias in vocab.place_names:
        if alias in t:
            t = t.replace(alias, "某地")
    t = re.sub(r"(?:19|20)?\d{2}\s*年(?!级)", "某年", t)
    t = re.sub(r"第\s*[\d一二三四五六七八九十百千万零〇两]+\s*(项|条|点|部分|大块|板块)", r"第N\1", t)
    t = re.sub(r"\d+(?:\.\d+)?", "N", t)
    return t


def read_scope(question: str, plans: list[Plan], plan_filter: str | None) -> Scope:
    # 《…》 titles name a plan by its full title: read the place from it like any other mention.
    return resolve_scope(question, plans, default_plan=plan_filter)


# What a clause asks of the thing named before it ("…是哪一条，牵头的是谁"): who leads or takes part,
# or when; a second ask about the first one's item, unless the first already asked it.
ANOTHER_ATTRIBUTE = re.compile(r"牵头|负责|责任(?:单位|科室)|配合|参与|什么时候|何时|哪年|期限|截止")


def _ask_groups(clauses: list[Clause], vocab: Vocabulary, drop: set[str]) -> list[tuple[str, list[str]]]:
    """Ask clauses grouped into separate asks: a clause with topic words or units of its own starts
    a new ask; one without ("分别是哪几项") belongs to the ask before it."""
    groups: list[tuple[str, list[str]]] = []
    for c in clauses:
        if c.role != "ask":
            continue
        words = topic_words(c.text, vocab, drop, drop)
        if groups and FORMAT_ONLY.search(c.text):
            words = []  # "全部列出来": how to answer the ask before, not an ask of its own
        own = bool(words) or bool(find_units(c.text, vocab)) or bool(re.search(r"第\s*[\d一二三四五六七八九十百两]+\s*(?:项|条|部分)", c.text)) \
            or bool(groups and ANOTHER_ATTRIBUTE.search(c.text) and not ANOTHER_ATTRIBUTE.search(groups[-1][0]))
        if groups and not own:
            text, w = groups[-1]
            groups[-1] = (text + "，" + c.text, w)
        else:
            groups.append((c.text, words))
    return groups


def read_query(question: str, plans: list[Plan], vocab: Vocabulary, model: Any, plan_filter: str | None = None,
               context: dict[str, Any] | None = None, max_asks: int = 4) -> Query:
    """Read a question (and the conversation's context) into a Query."""
    context = context or {}
    clauses = split_clauses(question)
    chatter = tuple(c.text for c in clauses if c.role == "chatter")
    core = "，".join(c.text for c in clauses if c.role != "chatter") or question
    scope = resolve_scope(question, plans, default_plan=plan_filter)
    units = find_units(core, vocab)
    drop = set(vocab.place_words) | set(units) | {u for n in units for u in (n, UNIT_SUFFIX.sub("", n))}
    for name in vocab.unit_names:
        if name in core:
            drop.add(name)
    ask_text = "，".join(c.text for c in clauses if c.role == "ask" and not FORMAT_ONLY.search(c.text))
    context_text = "，".join(c.text for c in clauses if c.role == "context")
    # a noun naming a kind of value ("期限") stays itself: it is what the answer states, not a subject
    ask_words = [w if w in VALUE_NOUNS else in_plan_words(w, vocab) for w in topic_words(ask_text, vocab, drop, drop)]
    topic = [w for w in ask_words if vocab.known(w)]
    topic = list(dict.fromkeys(topic))
    # "这项改革" in the ask names a phrase of the scene: that phrase is the topic, not the whole scene
    scene = antecedent(ask_text, context_text) or context_text
    scene_words = [w for w in map(lambda w: in_plan_words(w, vocab), topic_words(scene, vocab, drop, drop))
                   if vocab.known(w) and w not in topic]
    # an ask with a subject of its own ("资助那条是第几条") is about that subject: the scene's words
    # ("写材料要引用") help find it but may be missing from it; without one, or pointing back, the
    # scene is the subject
    subject = [w for w in topic if w not in asked_attributes(ask_text, topic)]
    optional = tuple(scene_words) if subject and not points_back(ask_text) else ()
    topic += scene_words
    unknown = [w for w in ask_words if not vocab.known(w) and is_noun(w)]
    attributes = asked_attributes(ask_text, topic + unknown)
    if attributes and len(attributes) < len(topic) + len(unknown):
        topic = [w for w in topic if w not in attributes]
        unknown = [w for w in unknown if w not in attributes]
    if attributes and len(attributes) >= len(topic) + len(unknown) and context.get("item_id") and points_back(ask_text):
        # "这一项有哪些数字目标": what kind of answer is wanted of the item in context, which is the subject
        topic, unknown = [], []
    refers_back = points_back(ask_text) and not context
    situation = ""
    if (not topic and not unknown or refers_back) and not units and not re.search(r"第\s*[\d一二三四五六七八九十百两]+\s*(?:项|条|部分)", core):
        # "我们学校想创建语言文字示范校，这件事归哪个科室牵头？": with nothing asked about in the ask
        # itself, or an ask pointing back ("这方面") with no conversation before, what the asker says
        # of their own situation is the topic
        own = "，".join(c.text for c in clauses if c.own and not IDENTITY.search(c.text))
        own = antecedent(ask_text, own) or own  # "…教师队伍建设那部分，这部分一共几项"
        own_words = [w for w in map(lambda w: in_plan_words(w, vocab), topic_words(own, vocab, drop | SELF_WORDS, drop))
                     if vocab.known(w) and w not in topic]
        if own_words:
            # the ask's own words were only what kind of answer is wanted ("有什么不同")
            topic = [w for w in topic if w not in attributes] + own_words
            situation = own
    quoted = tuple(m.group(1) for m in QUOTED.finditer(question))
    last_section, last_item = bool(LAST_SECTION.search(core)), bool(LAST_ITEM.search(core))
    has_ref = bool(scope.item_number or scope.section_number or last_section or last_item)
    # A question leaning on the conversation: a deictic word, "邵东呢？", or nothing of its own to go
    # on but a bare reference ("第四部分是哪几条？" names no plan).
    elliptical = bool(context) and (points_back(core) or (not topic and not units and not has_ref)
                                    or (not topic and not scope.explicit)
                                    or bool(re.fullmatch(r".{0,12}呢[？?]?", question)))
    inherited: list[str] = []
    groups = _ask_groups(clauses, vocab, drop)
    if elliptical and not topic and not units and not unknown and context.get("question") \
            and not re.search(r"牵头|负责|责任|部分|几|多少|什么时候|何时|哪", _strip_refs(core)):
        # "邵东呢？", "第18项呢？": the previous ask again, about what this question names.
        prev = context["question"]
        prev_clauses = [c for c in split_clauses(prev) if c.role != "chatter"]
        groups = _ask_groups(prev_clauses, vocab, drop) or groups
        # the previous ask may itself have leant on the topic before it ("责任科室有哪些？")
        topic = [w for w in topic_words(prev, vocab, drop, drop) if vocab.known(w)] or list(context.get("topic") or [])
        core = "，".join(c.text for c in prev_clauses)
        inherited.append("question")
    step = RELATIVE_ITEM.search(question)
    at = str(context.get("item_id") or "").rpartition(":")
    if step and at[2].isdigit() and not scope.item_number and not scope.explicit:
        # "下一项呢？", "上一条": the item beside the one the conversation is about, in its plan
        scope.item_number = str(int(at[2]) + (1 if step.group(1) in "下后" else -1))
        scope.plan_ids = [at[0]]
        inherited.append("item_id")
    if elliptical:
        if not scope.explicit and scope.plan_ids is None and context.get("plan_id"):
            scope.plan_ids = [context["plan_id"]]
            inherited.append("plan_id")
        if not topic and context.get("topic") and re.search(r"同类|同样|这方面|相同|类似|对应|相应", core):
            topic = list(context["topic"])
            inherited.append("topic")
        if not units and context.get("unit") and re.search(r"^它|它还|该科室|这个科室|他们", core):
            units = [context["unit"]]
            inherited.append("unit")
    if len(groups) > max_asks:
        # more parts than a request may cost: the first ones, the rest folded into the last
        groups = groups[: max_asks - 1] + [("，".join(g[0] for g in groups[max_asks - 1:]), [])]
    asks = []
    for text, _ in groups or [(core, topic)]:
        masked = mask(text, vocab)
        if units and "某科室" not in masked:
            # "听说法规科任务挺重，它牵头的有哪几项？": the pronoun is the unit named before
            masked = UNIT_PRONOUN.sub("某科室", masked, count=1)
        ranked = tuple(model.rank(masked))
        asks.append(Ask(intent=ranked[0][0], text=text, ranked=ranked))
    return Query(text=question, core=core, scope=scope, asks=tuple(asks), topic=tuple(topic),
                 unknown=tuple(unknown), optional=tuple(w for w in optional if w in topic), units=tuple(units),
                 role=unit_role(core), quoted=quoted,
                 alternatives=read_alternatives(ask_text, vocab, drop | set(attributes)),
                 unlisted_units=tuple(unlisted_units(core, vocab, units)),
                 chatter=chatter, last_section=last_section, last_item=last_item, elliptical=elliptical,
                 inherited=tuple(inherited), situation=situation, context=dict(context))


# What joins alternatives of one topic: "A或B", "A或者B", "A（B）", "A、B这类".
ALTERNATIVE_SEP = re.compile(r"或者|或是|或|[（(、]")
# "同时提到A、B": both, not either.
BOTH = re.compile(r"同时|都有|均有|既")


def read_alternatives(ask: str, vocab: Vocabulary, drop: set[str]) -> tuple[tuple[str, ...], ...]:
    """The alternatives an ask offers for its topic, each as its topic words (known to the plans or
    not); () when it offers none. Each alternative is the stretch of the ask between separators (its
    question words are not topic words, so they fall away)."""
    if BOTH.search(ask) or not ALTERNATIVE_SEP.search(ask):
        return ()
    parts = [re.sub(r"[）)]", "", x) for x in ALTERNATIVE_SEP.split(ask)]
    alts = [tuple(w for w in map(lambda w: in_plan_words(w, vocab), topic_words(x, vocab, drop, drop))
                  if vocab.known(w) or is_noun(w)) for x in parts]
    alts = [a for a in dict.fromkeys(alts) if a]
    return tuple(alts) if len(alts) >= 2 else ()


def asked_attributes(ask: str, words: list[str]) -> list[str]:
    """Words naming the kind of answer wanted, not its subject: the noun before "是/有 + question word"
    ("目标是多少人", "重点是什么") or right after it at the end of a clause ("提了哪些要求", "作了哪些部署");
    a noun naming a kind of value ("锻炼时间", "入学比例"); the verb a request opens with ("请比较…").
    The subject is what the evidence must cover; "要求" is what any answer about it will be."""
    out = [w for w in words if w in VALUE_NOUNS]
    for clause in CLAUSE_SPLIT.split(ask):
        clause = clause.strip()
        for w in words:
            e = re.escape(w)
            if REQUEST.match(clause) and re.match(REQUEST.pattern + e, clause):
                out.append(w)
            elif re.search(r"(?:哪些|哪几(?:个|项|条)?|哪个|什么)" + e + r"(?:里|中)?(?:都|还)?(?:涉及|提到|提及|包含|包括|写到|讲到|说到|有)", clause):
                # "哪些项目涉及民办教育": what is enumerated (items), not what they speak of
                out.append(w)
            elif re.search("的" + e + r"(?:吗|呢)?$", clause) and is_plain_verb(w):
                # "是否涉及法治副校长的配备": the action done to the subject, which a plan may word
                # otherwise ("配齐配强"); the subject is what must be mentioned
                out.append(w)
            elif re.search(e + r"(?:都|还|又|分别|具体|主要)?(?:是|为|有)(?:多少|什么|啥|哪些|哪个|哪几|几|如何|怎样|怎么)"
                           r"[\u4e00-\u9fff]?(?:呢|吗|啊)?$", clause) \
                    or re.search(r"(?:哪些|什么|啥|哪几(?:个|项|条|种)?|哪方面)的?" + e + r"(?:呢|吗|啊)?$", clause):
                out.append(w)
    return list(dict.fromkeys(out))


def _strip_refs(text: str) -> str:
    return re.sub(r"第\s*[\d一二三四五六七八九十百两]+\s*(?:项|条|点)", "", text)
