"""Which language a short message is in: Indonesian, English, or no telling.

Messages are a few words of informal text, too short for a statistical detector
(and a model would be slow to load); counting words that belong to only one of
the two languages, slang included, is fast and right where it matters: replying
in the citizen's language. Words both languages use ("ok", "menu", "hi", "thanks",
"bye", "no", service names) count for neither, so "ok" alone gives None and the
locale stays as it was. Balinese words ("om swastiastu", "suksma", "tiang", "nggih")
count as Indonesian, the language the reply should then use.

A conversation's language is sticky: the engines give a message a locale only when
:func:`clear_language` finds it clearly written in one (the dialogs then answer in
it; with None they keep the conversation's). A sentence is clear; a word Indonesians
borrow ("booking", "ok", "thanks") or visitors borrow ("terima kasih") is not, nor a
name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hub.nlu.normalise import wordset

_WORD = re.compile(r"[^\W\d_]+(?:['’][a-z]+)?")

_ID_WORDS = wordset("""
    saya sy aku aq gue gw gua kami kita kamu km anda kalian dia beliau mereka
    yang yg dan dgn dengan di ke dari dr pada pd untuk utk buat bwt sama sm atau
    ini itu tsb sini situ sana mana dimana dmn kemana kmn kapan kpn bagaimana gimana gmn gmna
    apa ap apakah kenapa knp mengapa siapa berapa brp brapa
    tidak tdk gak ga gk nggak ngga enggak engga kagak ndak bukan belum blm blum
    sudah sdh udah udh dah sedang lagi lg masih msh akan mau mw mo ingin pengen pingin
    bisa bs bsa boleh harus hrs perlu butuh bikin bkin membuat urus ngurus mengurus daftar
    tolong mohon minta silakan silahkan terima kasih makasih mksh makasi trims terimakasih
    selamat pagi siang sore malam halo hallo permisi punten maaf
    kak kakak min mimin pak bapak bu ibu mas mbak mba bli dik
    dong donk deh nih sih kok kan ya yaa iya iy oke sip siap aja saja doang juga jg
    banget bgt sekali sangat lama cepat lambat jadi jd karena krn tapi tp tetapi kalau klo kalo
    antri antre antrian antrean nomor nmr jadwal besok bsk lusa kemarin hari minggu bulan tahun
    senin selasa rabu kamis jumat sabtu tanggal tgl jam pukul depan dpn
    syarat persyaratan dokumen berkas biaya bayar gratis buka tutup lokasi alamat dimana loket
    petugas pelayanan layanan pengaduan komplain keluhan laporan tiket cek batal batalin
    ganti pindah hilang rusak baru lahir akta akte kartu keluarga pajak surat izin ijin
    tanya nanya informasi bantuan bantu pilihan apakah adakah bagaimanakah
    sekarang nanti tadi baru udah sampai sampe jumpa dadah
    om swastiastu swastyastu suksma rahajeng matur nuwun nggih inggih rahayu semeng sanja
    tiang titiang dados kenken napi driki ampura sampun durung nunas wenten jagi rauh
    pisan becik sareng dija niki nika sane ngae carane tulung mangkin buin mani puan
    """)
_EN_WORDS = wordset("""
    i i'm im me my mine you your you're we our us they them he she it it's its
    the an this that these those there here is are was were be been am do does did don't
    what whats what's how where when which who why can could would should will shall may might
    need needs want wants like please pls plz thank thankyou cheers
    hello hey good morning afternoon evening night goodbye see later
    yes yeah yep sure nope not never
    to for of from with at on in into about and or but if so because
    book booking queue appointment schedule reschedule cancel check status ticket complaint
    document documents requirement requirements fee fees cost costs price much many open
    opening hours close closed location address where office counter staff officer human
    person agent help service services renew renewal apply application get make new lost
    passport birth certificate card license licence driving tax today tomorrow next week
    monday tuesday wednesday thursday friday saturday sunday
    time day date number my mine english speak talk
    """)
_ID_SUFFIX = re.compile(r"^[a-z]{3,}(?:nya|kan|lah|kah)$")


_CODE = re.compile(r"\b[a-z]+-[a-z0-9-]*\d[a-z0-9-]*")
"""A booking code, queue number or ticket id (B-US8NEL, H-001, CARE-20261130-0001): its
letters are no words ("us" in B-US8NEL is not English)."""


@dataclass(frozen=True, slots=True)
class Evidence:
    """How many words of a message belong to only one language."""

    id: int
    en: int
    id_clear: int
    """Indonesian words an English speaker would not borrow ("terima kasih" is borrowed)."""
    en_clear: int
    """English words an Indonesian chat would not borrow ("booking", "ok", "thanks" are)."""


_BORROWED_EN = wordset("""
    booking book queue cancel reschedule check status ticket complaint online offline
    thank thanks see please pls plz sorry yes yeah yep sure nope ok okay fine done next help
    service services card number time date new lost sir
    """)
"""English words Indonesian citizens drop into Indonesian sentences."""
_BORROWED_ID = wordset("""
    terima kasih makasih mksh trims suksma matur nuwun selamat pagi siang sore malam halo
    hallo om swastiastu swastyastu rahajeng semeng sanja ya iya bapak ibu pak bu kak kakak
    mas mbak bli sama sampai jumpa nggih
    """)
"""Indonesian (and Balinese) words visitors use in English sentences."""
_BORROWED_PHRASE = re.compile(r"\b(?:thank\s*(?:you|u)|see\s+(?:you|u))\b")


def weigh(text: str) -> Evidence:
    """Counts of the message's Indonesian-only and English-only words."""
    id_score = en_score = id_clear = en_clear = 0
    lowered = text.lower()
    for match in _WORD.finditer(_CODE.sub(" ", lowered)):
        word = match.group(0).replace("’", "'")
        in_id, in_en = word in _ID_WORDS, word in _EN_WORDS
        if in_id and not in_en:
            id_score += 1
            id_clear += word not in _BORROWED_ID
        elif in_en and not in_id:
            en_score += 1
            en_clear += word not in _BORROWED_EN
        elif not in_id and not in_en and _ID_SUFFIX.match(word):
            id_score += 1  # "syaratnya", "bantulah", "batalkan"
            id_clear += 1
    en_clear -= len(_BORROWED_PHRASE.findall(_CODE.sub(" ", lowered)))
    return Evidence(id_score, en_score, id_clear, max(en_clear, 0))


def detect_language(text: str) -> str | None:
    """``id`` or ``en`` when the words say so; None when they do not (or tie)."""
    evidence = weigh(text)
    if evidence.id > evidence.en:
        return "id"
    if evidence.en > evidence.id:
        return "en"
    return None


def clearly_written_in(text: str, locale: str) -> bool:
    """Whether ``text`` is evidence enough to change a conversation's language to ``locale``.

    A sentence is; one borrowed word ("booking", "ok", "thanks", "terima kasih") or a
    name is not. Clear: a word of ``locale`` nobody borrows and none of the other
    language ("hello", "what time do you open"), or a sentence with at least three
    such words and twice as many as the other language's.
    """
    evidence = weigh(text)
    if locale == "en":
        clear, other = evidence.en_clear, evidence.id
    elif locale == "id":
        clear, other = evidence.id_clear, evidence.en
    else:
        return False
    return (clear >= 1 and other == 0) or (clear >= 3 and clear >= 2 * other)


def clear_language(text: str) -> str | None:
    """The language ``text`` is clearly written in (:func:`clearly_written_in`), or None."""
    for locale in ("en", "id"):
        if clearly_written_in(text, locale):
            return locale
    return None


def is_sentence(text: str) -> bool:
    """Whether ``text`` has at least two words of either language: a question the NLU may
    call out of scope, rather than a random string ("asdfgh", "xyzzy") it did not understand."""
    evidence = weigh(text)
    return evidence.id + evidence.en >= 2
