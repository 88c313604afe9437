"""The words of a question that say what it is about: jieba tokens without scaffolding, noise, places,
units and function words; plan terms jieba cut apart made whole again; words the plans lack mapped
to the synonym they use. Pure functions over a `Vocabulary`."""
from __future__ import annotations

import re
from typing import Iterable

from ..keyword import STOPWORDS, tokenize
from .evidence import Vocabulary, word_freq
from .synonyms import plan_synonym

# Words that name the document or its issuer, not a topic.
SCAFFOLD = re.compile(
    r"《[^》]*》|(?:市|县|区)?(?:教育局|教体局|教育和体育局|教育工委|教工委)|局里|市局|县局|市里|县里|"
    r"(?:现有|已有|收录|所收录|所有)?(?:的)?(?:这|那|哪)?(?:几|些|四|两|三|各)?(?:份|个)?(?:教育|教体)?(?:工作)?(?:要点|计划|文件)(?:里|中|上)?|"
    r"(?:19|20)?\d{2}年")
# An amount or range with its measure word ("0到3岁", "3-6周岁", "56人"): a value, not a topic word.
AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:到|至|-|—|~|～)?\s*\d*\s*(?:周岁|岁|个月|年级|人|名|所|个|%|％)")
# Prepositions and particles jieba may glue to an unlisted word ("对托育"): never part of a topic word.
FUNCTION_CHARS = "对在的和与及把给从向跟被于为了吗呢啊"
# A numeral with the measure word of what is counted ("四个地方", "两所"): how many, not what about.
COUNTED_NUMERAL = re.compile(r"[一二两三四五六七八九十百千万几]+(?:个|项|条|所|份|家|类|种|点|次|名|位|地)")
# Modal verbs that jieba glues to a one-character verb ("要建多少个学位").
MODAL = re.compile(r"^[要需须应将得该可能会想]")


def topic_words(text: str, vocab: Vocabulary, drop: set[str], names: Iterable[str] = ()) -> list[str]:
    """Content words of a text: jieba tokens without scaffolding, places, units or function words.
    `drop` are words never taken; `names` (units, places) are taken out of the text before it is cut."""
    from ..text import QUESTION_NOISE

    # names dropped whole (units, places) leave no pieces behind: "基教科" must not give 教科
    for name in sorted((d for d in names if len(d) >= 2), key=len, reverse=True):
        if name in text:
            text = text.replace(name, " ")
    text = _without_noise(AMOUNT.sub(" ", SCAFFOLD.sub(" ", text)))
    out: list[str] = []
    for tok in tokenize(text):
        if MODAL.match(tok) and len(tok) == 2:
            continue  # "要建", "需交": a modal and a one-character verb say nothing the plans index
        if tok in STOPWORDS or tok in QUESTION_NOISE or tok in drop or len(tok) < 2:
            continue
        if re.fullmatch(r"\d+(?:\.\d+)?%?", tok) or re.match(r"^(?:几|多少|第几|哪)", tok) or COUNTED_NUMERAL.fullmatch(tok) \
                or re.fullmatch(r"第[一二三四五六七八九十百千万零〇两]+[项条点个]?", tok):  # numerals (第一千零一条)
            continue
        if not vocab.real_word(tok):
            import jieba

            parts = [p for p in jieba.lcut(tok, HMM=False) if len(p) >= 2 and p != tok]
            kept = [p for p in parts if vocab.real_word(p) and p not in QUESTION_NOISE]
            out.extend(p for p in kept if p not in out)
            # what no real word covers ("托育" in "托育服务") is still asked about: a word of its own
            rest = [r.strip(FUNCTION_CHARS) for r in re.split("|".join(map(re.escape, kept)) or "$^", tok)]
            # a dictionary word jieba will not split ("今天天气") stays out; a word new to it ("托育") is asked about
            rest = [r for r in rest if len(r) >= 2 and (r != tok or not word_freq(tok))]
            # a Latin word ("AI", "STEAM") is a name of its own, as a new Chinese word is
            if all(re.fullmatch(r"[\u4e00-\u9fff]+|[a-z][a-z0-9]+", r) for r in rest):
                # the tokenizer lowercases: a Latin word is named as the asker wrote it
                rest = [m.group(0) if r.isascii() and (m := re.search(re.escape(r), text, re.I)) else r for r in rest]
                out.extend(r for r in rest if r not in out)
            continue
        if tok not in out:
            out.append(tok)
    out = _with_modifiers(text, out, vocab)
    out = list(dict.fromkeys(_extend_to_plan_term(text, w, vocab) for w in out))
    # a word inside a longer topic word adds nothing ("学前" in "学前教育")
    return [w for w in out if not any(w != o and w in o for o in out)]


def _without_noise(text: str) -> str:
    """The text without the words of QUESTION_NOISE, found by jieba's precise segmentation: search mode
    would otherwise keep the pieces of a noise word ("一大" of "那一大块") as if they were topic."""
    import jieba

    from ..text import QUESTION_NOISE

    return "".join(" " if tok in QUESTION_NOISE else tok for tok in jieba.lcut(text))


def _extend_to_plan_term(text: str, word: str, vocab: Vocabulary) -> str:
    """A fragment of a plan term grown over the characters jieba could not place beside it, while the
    plans still use the longer string: "对控|辍保学" gives 控辍保学, "对明|厨亮|灶" gives 明厨亮灶. Characters of real
    words (要求, 工程) and function characters (对, 的) are never taken: the plans' own term is only
    completed, not widened."""
    import jieba

    at = text.find(word)
    if at < 0 or not vocab.known(word) or word_freq(word):
        return word  # a dictionary word is whole: only fragments jieba cut out of a plan term grow
    loose = [False] * len(text)
    pos = 0
    for tok in jieba.lcut(text):
        if not (len(tok) >= 2 and vocab.real_word(tok)):
            for k in range(pos, pos + len(tok)):
                loose[k] = re.fullmatch(r"[\u4e00-\u9fff]", text[k]) is not None and text[k] not in FUNCTION_CHARS
        pos += len(tok)
    a, b = at, at + len(word)
    while a > 0 and loose[a - 1] and vocab.known(text[a - 1:b]):
        a -= 1
    while b < len(text) and loose[b] and vocab.known(text[a:b + 1]):
        b += 1
    return text[a:b]


def _with_modifiers(text: str, words: list[str], vocab: Vocabulary) -> list[str]:
    """A one-character modifier jieba left standing before a word ("毛" + 入学率) joins it when the
    plans write the two together ("毛入学率"): the narrower term is what is asked about."""
    import jieba

    # with jieba's guesses at new words on: a character it reads as the end of one ("研学" in 研学实践)
    # is not standing alone
    toks = jieba.lcut(text)
    out = list(words)
    for before, tok in zip(toks, toks[1:]):
        if len(before) == 1 and tok in out and re.fullmatch(r"[\u4e00-\u9fff]", before) \
                and before not in FUNCTION_CHARS and before not in STOPWORDS and vocab.known(before + tok):
            out[out.index(tok)] = before + tok
    return out


def in_plan_words(word: str, vocab: Vocabulary) -> str:
    """A word as the plans say it: itself when they use it, else (for a noun) its synonym they use
    most ("老师" → 教师), else itself (then it may count against the evidence)."""
    if vocab.known(word) or not is_noun(word):
        return word  # only names of things: a verb's synonyms drift in sense (依赖 → 依托)
    return plan_synonym(word, vocab.df, shares_character=True) or word


def is_plain_verb(word: str) -> bool:
    """A plain verb (配备, 推进), not a verbal noun (建设, 培训) that can name a subject itself."""
    import jieba.posseg as pseg

    tags = [t.flag for t in pseg.lcut(word)]
    return tags == ["v"]


def is_noun(word: str) -> bool:
    """A word the plans lack counts against the evidence only when it names a thing (a noun)."""
    import jieba.posseg as pseg

    tags = [t.flag for t in pseg.lcut(word)]
    # jieba guesses a personal name ("nr") for many unlisted two-character words (托育, 安保); people
    # ask these plans about things, not persons, so a guessed name counts as a noun too
    return bool(tags) and all(t.startswith(("n", "eng")) for t in tags)
