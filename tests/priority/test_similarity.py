from hypothesis import given
from hypothesis import strategies as st

from priority.similarity import (
    DEFAULT_THRESHOLD,
    normalise,
    profile,
    profile_similarity,
    similarity,
    tokens,
)

# --- normalise: one example per rule ------------------------------------------


def test_alef_forms_are_unified() -> None:
    assert normalise("إلى") == normalise("الى") == normalise("ألى") == "الي"
    assert normalise("أحمد آمنة ٱلله") == "احمد امنه الله"


def test_ta_marbuta_alef_maqsura_and_hamza_carriers_are_folded() -> None:
    assert normalise("مدرسة") == normalise("مدرسه")
    assert normalise("مستشفى") == "مستشفي"
    assert normalise("مسؤول") == "مسوول"
    assert normalise("أبنائي") == "ابنايي"


def test_tashkeel_and_tatweel_are_removed() -> None:
    assert normalise("الطَّلَبُ") == "الطلب"
    assert normalise("سَيِّدٌ الإنْسانُ") == "سيد الانسان"
    assert normalise("مـــدرســـة") == "مدرسه"
    # The dagger alef (U+0670) is tashkeel too.
    assert normalise("هٰذا") == "هذا"


def test_arabic_indic_and_persian_digits_become_ascii() -> None:
    assert normalise("١٢٣") == "123"
    assert normalise("۴۵۶") == "456"


def test_punctuation_becomes_space_and_whitespace_collapses() -> None:
    assert normalise("  مرحبا،  كيف؟ الحال؛ جيد!\n(شكرا)  ") == "مرحبا كيف الحال جيد شكرا"
    assert normalise("Court-ruling: NOT enforced.") == "court ruling not enforced"


def test_invisible_marks_do_not_split_words() -> None:
    assert normalise("حضا\u200fنة") == "حضانه"


def test_presentation_forms_become_plain_letters() -> None:
    assert normalise("ﻻ") == "لا"


# --- tokens -----------------------------------------------------------------


def test_article_and_conjunction_are_stripped_when_enough_is_left() -> None:
    assert tokens("والمحكمة بالتنفيذ للمدرسة الحكم وقضية") == ["محكمه", "تنفيذ", "مدرسه", "حكم", "قضيه"]
    # Too short to strip: the remainder would have fewer than three letters.
    assert tokens("الطب وزن") == ["الطب", "وزن"]


def test_stop_words_and_boilerplate_are_dropped() -> None:
    assert tokens("في هذه القضية على الوزير والتي") == ["قضيه"]
    assert tokens("I request a meeting about the custody of my son") == ["custody", "son"]


# --- realistic pairs ----------------------------------------------------------

# Each pair is one applicant's complaint typed twice: spelling variants, another
# order, an extra sentence, a paraphrase, a short and a long version.
DUPLICATES = [
    (
        "أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ",
        "اطلب مقابلة معالي الوزير بخصوص قضيه حضانه ابنائي لتعثر تنفيذ الحكم",
    ),
    (
        "لم أستلم رواتبي منذ ستة أشهر من الشركة. أرجو التدخل لصرف مستحقاتي المتأخرة.",
        "أرجو التدخل لصرف مستحقاتي المتأخره، فلم استلم رواتبي من الشركه منذ ٦ اشهر",
    ),
    (
        "أطلب الحصول على دعم سكني لأنني أسكن بالإيجار مع أسرتي المكونة من سبعة أفراد",
        "اطلب الحصول على دعم سكني لانني اسكن بالايجار مع اسرتي المكونه من ٧ افراد. "
        "وقد تقدمت بطلب في منصة سكني قبل سنتين ولم يتم الرد",
    ),
    (
        "أرجو المساعدة في علاج والدتي المريضة بالسرطان في مستشفى تخصصي",
        "ارجو المُساعَدة فى علاج والدتى المريضه بالسرطان فى مستشفى تخصصى",
    ),
    ("نزاع على أرض زراعية في القصيم", "نزاع علي ارض زراعيه بالقصيم مع الجيران"),
    (
        "حضانة أبنائي وتعثر تنفيذ الحكم",
        "صدر لي حكم بحضانة أبنائي الثلاثة من المحكمة قبل سنة ولم ينفذ الحكم حتى الآن "
        "رغم مراجعاتي المتكررة لمحكمة التنفيذ، وأطلب التدخل لتنفيذ الحكم",
    ),
    ("الشركة لا تصرف رواتبي منذ ستة اشهر", "عدم صرف الراتب من الشركة لمدة ستة أشهر"),
    (
        "Request a meeting about my son's custody case; the court ruling has not been enforced.",
        "I request a meeting regarding the custody case of my son, because the court ruling is still not enforced",
    ),
]

# Each pair is one applicant with two different matters, often opening with the
# same courtesies.
DIFFERENT_MATTERS = [
    (
        "أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ",
        "أطلب مقابلة معالي الوزير بخصوص رواتبي المتأخرة لدى الشركة التي أعمل بها",
    ),
    (
        "أطلب الحصول على دعم سكني لأنني أسكن بالإيجار مع أسرتي المكونة من سبعة أفراد",
        "أرجو المساعدة في علاج والدتي المريضة بالسرطان في مستشفى تخصصي",
    ),
    (
        "أطلب مقابلة معالي الوزير بخصوص طلب دعم سكني لأسرتي",
        "أطلب مقابلة معالي الوزير بخصوص طلب علاج لوالدي في الخارج",
    ),
    (
        "أطلب مقابلة معالي الوزير بخصوص قضية حضانة أبنائي بعد تعثر التنفيذ",
        "أطلب مقابلة معالي الوزير بخصوص قضية نزاع على أرض زراعية",
    ),
    (
        "أطلب ابتعاث ابني لدراسة الطب في الخارج على حساب الدولة",
        "أطلب توظيف ابني في القطاع الحكومي بعد تخرجه من الجامعة",
    ),
    ("أطلب علاج ابني في الخارج على حساب الدولة", "أطلب توظيف ابني في وزارة الصحة"),
    ("الشركة لا تصرف رواتبي منذ ستة اشهر", "غرامة على الشركة التي أملكها بسبب تأخر تجديد السجل التجاري"),
    (
        "Request a meeting about my son's custody case; the court ruling has not been enforced.",
        "Request a meeting about unpaid wages from my employer for six months",
    ),
]


def test_retyped_requests_are_likely_duplicates() -> None:
    for a, b in DUPLICATES:
        assert similarity(a, b) >= DEFAULT_THRESHOLD, (a, b, similarity(a, b))


def test_different_matters_are_not_duplicates() -> None:
    for a, b in DIFFERENT_MATTERS:
        assert similarity(a, b) < DEFAULT_THRESHOLD, (a, b, similarity(a, b))


def test_threshold_leaves_a_margin_on_both_sides() -> None:
    # A threshold that only just separates the examples would flip on the next one.
    lowest_duplicate = min(similarity(a, b) for a, b in DUPLICATES)
    highest_different = max(similarity(a, b) for a, b in DIFFERENT_MATTERS)
    assert lowest_duplicate - DEFAULT_THRESHOLD >= 0.1
    assert DEFAULT_THRESHOLD - highest_different >= 0.1


# --- edges and profiles -------------------------------------------------------


def test_identical_and_empty_texts() -> None:
    text = DUPLICATES[0][0]
    assert similarity(text, text) == 1.0
    assert similarity("", text) == 0.0
    assert similarity(text, "") == 0.0
    assert similarity("", "") == 0.0
    assert similarity("؟!،", text) == 0.0


def test_text_of_stop_words_only_still_equals_itself() -> None:
    assert similarity("ما لا", "ما لا") == 1.0
    assert similarity("ما لا", "مقابلة") == 0.0


def test_profile_covers_subject_and_text_and_matches_similarity() -> None:
    subject, text = "حضانة", "تعثر تنفيذ حكم حضانة أبنائي"
    assert profile_similarity(profile(subject, text), profile("", f"{subject} {text}")) == 1.0
    one, other = DUPLICATES[1]
    assert profile_similarity(profile("", one), profile("", other)) == similarity(one, other)


def test_one_profile_is_compared_with_many() -> None:
    new = profile("حضانة", DUPLICATES[0][1])
    candidates = [profile("", b) for _, b in DIFFERENT_MATTERS] + [profile("", DUPLICATES[0][0])]
    flagged = [c for c in candidates if profile_similarity(new, c) >= DEFAULT_THRESHOLD]
    assert flagged == [candidates[-1]]


# --- properties ---------------------------------------------------------------

# Text that looks like what citizens type: Arabic and Latin letters, digits,
# tashkeel, tatweel, punctuation and spaces, plus anything else Unicode has.
_TYPED = st.text(st.sampled_from("ابتثجحخدذرسشصضطظعغفقكلمنهويأإآةىؤئءًٌٍَُِّْٰـ٠١٢٣abcxyzABC019 ،؛؟.,!\n") | st.characters())
_LETTER_OR_DIGIT = st.sampled_from("بحلمaZ7٣۵")


@given(_TYPED)
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@given(_TYPED, _TYPED)
def test_similarity_is_symmetric_and_bounded(a: str, b: str) -> None:
    score = similarity(a, b)
    assert 0.0 <= score <= 1.0
    assert score == similarity(b, a)


@given(_TYPED, _LETTER_OR_DIGIT, _TYPED)
def test_identical_text_with_a_word_scores_one(before: str, letter: str, after: str) -> None:
    text = before + letter + after
    assert similarity(text, text) == 1.0
