"""Language detection: scripts, langdetect's languages, honest `und`, declared hints, readable names.

Every text here is written for these tests (no corpus text).
"""
from __future__ import annotations

import pytest

from index.language import analyse, detect_language, language_name, normalize_hint

EN = "The city council approved the new harbour budget on Monday after a long debate about ferry services."
FR = "Le conseil municipal a adopté lundi le nouveau budget du port après un long débat sur les ferries."
DE = "Der Stadtrat hat am Montag nach einer langen Debatte den neuen Hafenhaushalt beschlossen."
ES = "El ayuntamiento aprobó el lunes el nuevo presupuesto del puerto tras un largo debate."
ID = "Dewan kota menyetujui anggaran pelabuhan yang baru pada hari Senin setelah perdebatan panjang."
RU = "Городской совет в понедельник утвердил новый бюджет порта после долгих дебатов."
UK = "Міська рада в понеділок затвердила новий бюджет порту після тривалих дебатів."
AR = "وافق مجلس المدينة يوم الاثنين على الميزانية الجديدة للميناء بعد نقاش طويل."
HI = "नगर परिषद ने सोमवार को लंबी बहस के बाद बंदरगाह के नए बजट को मंजूरी दी।"
HE = "מועצת העיר אישרה ביום שני את התקציב החדש של הנמל לאחר דיון ארוך."
JA = "市議会は月曜日、長い議論の末に港の新しい予算を承認した。"
ZH_HANS = "市议会星期一经过长时间的辩论后批准了港口的新预算。"
ZH_HANT = "市議會星期一經過長時間的辯論後批准了港口的新預算。"
KO = "시의회는 월요일 긴 토론 끝에 항구의 새 예산을 승인했다."
TH = "สภาเมืองอนุมัติงบประมาณใหม่ของท่าเรือเมื่อวันจันทร์"
EL = "Το δημοτικό συμβούλιο ενέκρινε τη Δευτέρα τον νέο προϋπολογισμό του λιμανιού."
KA = "ქალაქის საბჭომ ორშაბათს პორტის ახალი ბიუჯეტი დაამტკიცა."
AM = "አዲስ አበባ የኢትዮጵያ ዋና ከተማ ነው። ከተማው በጣም ትልቅ ነው እና ብዙ ሰዎች አሉ።"
TI = "ኣስመራ ርእሰ ከተማ ኤርትራ እያ። ኣብ ከተማ ብዙሓት ሰባት ይነብሩ ኣለዉ።"
# Languages langdetect has no profile for, which it reads as Indonesian / Vietnamese.
HA = "Gwamnatin tarayya ta ƙaddamar da sabon shirin bunƙasa harkokin noma a faɗin ƙasar nan domin taimakawa manoma."
YO = "Ìjọba àpapọ̀ ti ṣe ìfilọ́lẹ̀ ètò tuntun láti ṣe ìrànlọ́wọ́ fún àwọn àgbẹ̀ ní gbogbo orílẹ̀-èdè."


@pytest.mark.parametrize("text, code", [
    (EN, "en"), (FR, "fr"), (DE, "de"), (ES, "es"), (ID, "id"), (RU, "ru"), (UK, "uk"), (AR, "ar"), (HI, "hi"),
    (HE, "he"), (JA, "ja"), (ZH_HANS, "zh-cn"), (ZH_HANT, "zh-tw"), (KO, "ko"), (TH, "th"), (EL, "el"),
    (KA, "ka"), (AM, "am"), (TI, "ti"),
])
def test_detects_each_script_and_language(text, code):
    assert detect_language(text) == code


@pytest.mark.parametrize("text", ["", "   \n\t ", "2025-03-01 12:30 +44 (0)20 7946 0000", "!!! ... ???", "Bonjour",
                                  "OK", "ሰላም ሰላም ሰላም ሰላም"])
def test_empty_featureless_short_or_ambiguous_text_is_und(text):
    assert detect_language(text) == "und"


def test_ethiopic_script_is_not_an_exception_and_names_the_orthography():
    assert (analyse(AM).language, analyse(AM).reason) == ("am", "ethiopic")
    assert (analyse(TI).language, analyse(TI).reason) == ("ti", "ethiopic")


@pytest.mark.parametrize("text", [HA, YO])
def test_languages_langdetect_does_not_know_are_und_not_a_confident_wrong_label(text):
    assert analyse(text)[:2] == ("und", "unknown")


def test_cyrillic_letters_outside_the_known_alphabets_name_their_language():
    assert detect_language("Урад абвясціў аб новых мерах падтрымкі эканомікі краіны ў будучым годзе.") == "be"
    assert detect_language("Үкімет елдің экономикасын қолдау үшін жаңа шаралар туралы хабарлады.") == "kk"
    assert detect_language("Влада је најавила нове мере, рекао је ђак из Ниша у среду.") == "sr"


def test_mixed_scripts_go_by_the_dominant_one():
    assert detect_language("The delegation travelled to Tokyo (東京) on Monday to discuss trade and ferries.") == "en"
    assert detect_language("アップルは新しいiPhoneを発表した。価格は約10万円で、来月から販売される予定だ。") == "ja"


def test_capitals_only_headline_is_still_read():
    assert detect_language("CITY COUNCIL APPROVES NEW HARBOUR BUDGET AFTER LONG DEBATE") == "en"


def test_only_the_prefix_is_read_and_the_answer_is_stable():
    text = " ".join([EN] * 4 + [FR] * 50)   # the French starts past the first 300 characters
    assert [detect_language(text) for _ in range(3)] == ["en", "en", "en"]


def test_hint_fills_in_when_the_text_is_too_short():
    assert detect_language("Bonjour", hint="fr-FR") == "fr"
    assert detect_language("東京", hint="ja") == "ja"
    assert detect_language("", hint="fr") == "und"


def test_hint_does_not_override_clear_evidence_of_another_known_language():
    assert detect_language(FR, hint="en") == "fr"       # a CMS template declaring en for everything
    assert detect_language(JA, hint="en") == "ja"
    assert detect_language(AM, hint="ti") == "am"       # the letters say Amharic
    assert detect_language(ZH_HANS, hint="zh-Hant") == "zh-cn"


def test_hint_names_a_language_the_model_cannot():
    assert detect_language(HA, hint="ha") == "ha"
    assert detect_language(HA, hint="en") == "und"      # a known language would have fitted
    assert detect_language(ID, hint="ms") == "ms"       # Malay: langdetect only knows Indonesian
    assert detect_language("ሰላም ሰላም ሰላም ሰላም", hint="ti") == "ti"


def test_invalid_hint_is_ignored():
    assert detect_language(ES, hint="xx-yy") == "es"
    assert detect_language("Bonjour", hint="not a language") == "und"


@pytest.mark.parametrize("hint, code", [("fr-FR", "fr"), ("EN", "en"), ("pt_BR", "pt"), ("fra", "fr"),
                                        ("hau", "ha"), ("nn", "no"), ("iw", "he"), ("zh-Hant", "zh-tw"),
                                        ("zh-HK", "zh-tw"), ("zh-Hans-CN", "zh-cn"), ("zh", "zh"), ("x-default", ""),
                                        ("und", ""), ("", "")])
def test_normalize_hint(hint, code):
    assert normalize_hint(hint) == code


@pytest.mark.parametrize("code, name", [("fr", "French"), ("zh-cn", "Chinese (Simplified)"),
                                        ("zh-tw", "Chinese (Traditional)"), ("und", "Undetermined"),
                                        ("", "Undetermined"), ("el", "Greek"), ("am", "Amharic"),
                                        ("no", "Norwegian"), ("sw", "Swahili"), ("fa", "Persian"), ("qq", "qq")])
def test_language_names_for_the_facet(code, name):
    assert language_name(code) == name
