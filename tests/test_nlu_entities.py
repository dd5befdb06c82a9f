"""Entity extraction and the service catalogue, with hand-computed expectations.

Fixed "today"s (WITA): Sunday 2026-11-29, Monday 2026-11-30 (a month's last day),
Thursday 2026-12-31 (a year's last day). Every expected value below was worked out
by hand from the conventions in ``hub/nlu/dates.py``.
"""

from __future__ import annotations

from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from hub.catalogue import CatalogueError, default_catalogue_path, load_catalogue
from hub.nlu.entities import EntityExtractor
from hub.nlu.language import detect_language
from hub.nlu.results import Entity

ROOT = Path(__file__).resolve().parent.parent
SHARED_SERVICES = ROOT.parent / "shared" / "data" / "services.yaml"

SUNDAY = date(2026, 11, 29)
MONTH_END = date(2026, 11, 30)
YEAR_END = date(2026, 12, 31)

SERVICE_IDS = {
    "ktp_el_baru",
    "ktp_el_penggantian",
    "kartu_keluarga",
    "akta_kelahiran",
    "akta_kematian",
    "surat_pindah",
    "paspor",
    "skck",
    "pkb_tahunan",
    "stnk_lima_tahunan",
    "bpjs_kesehatan",
    "bpjs_ketenagakerjaan_jht",
    "nib_oss",
    "pbg",
    "informasi_tata_ruang",
    "npwpd",
    "pbb_p2",
    "pertanahan",
    "npwp",
    "kartu_kuning_ak1",
    "pln_pasang_baru",
    "pdam_sambungan_baru",
    "sim_perpanjangan",
}


@pytest.fixture(scope="module")
def extractor() -> EntityExtractor:
    catalogue = load_catalogue(ROOT / "services.yaml")
    return EntityExtractor(
        {s.id: [s.name_id, s.name_en, *s.synonyms] for s in catalogue.services.values()}
    )


def found(
    extractor: EntityExtractor, text: str, today: date = SUNDAY
) -> list[tuple[str, str, str]]:
    """(type, value, span) of every entity, checking the offsets on the way."""
    entities = extractor.extract(text, today)
    _check_offsets(text, entities)
    return [(e.type, e.value, e.text) for e in entities]


def of_type(
    extractor: EntityExtractor, text: str, kind: str, today: date = SUNDAY
) -> list[tuple[str, str]]:
    return [(value, span) for type_, value, span in found(extractor, text, today) if type_ == kind]


def _check_offsets(text: str, entities: list[Entity]) -> None:
    for entity in entities:
        assert text[entity.start : entity.end] == entity.text, entity
    for before, after in pairwise(entities):
        assert before.end <= after.start, (before, after)


# --- dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mau antri besok", ("2026-11-30", "besok")),
        ("antri bsk bisa gk", ("2026-11-30", "bsk")),
        ("hari ini masih buka?", ("2026-11-29", "hari ini")),
        ("lusa aja", ("2026-12-01", "lusa")),
        ("kemarin sy sdh dtg", ("2026-11-28", "kemarin")),
        ("tomorrow please", ("2026-11-30", "tomorrow")),
        ("today", ("2026-11-29", "today")),
        # Sunday: a bare weekday is its next occurrence; "depan" is the week after tomorrow's.
        ("hari senin", ("2026-11-30", "hari senin")),
        ("senin dpn", ("2026-12-07", "senin dpn")),
        ("antri paspor senin depan", ("2026-12-07", "senin depan")),
        ("senin minggu depan", ("2026-12-07", "senin minggu depan")),
        ("jumat", ("2026-12-04", "jumat")),
        ("on friday", ("2026-12-04", "friday")),
        ("next Monday", ("2026-12-07", "next Monday")),
        ("hari minggu", ("2026-12-06", "hari minggu")),
        ("minggu depan aja", ("2026-12-06", "minggu depan")),
        ("next week", ("2026-12-06", "next week")),
        # "tgl N": this month unless past, else the next month that has that day.
        ("tgl 5", ("2026-12-05", "tgl 5")),
        ("tanggal 29", ("2026-11-29", "tanggal 29")),
        ("tgl 31", ("2026-12-31", "tgl 31")),
        # day/month, the year rolling over when the date is past.
        ("5/12", ("2026-12-05", "5/12")),
        ("05-12", ("2026-12-05", "05-12")),
        ("5/11", ("2027-11-05", "5/11")),
        ("tgl 5/12/2026", ("2026-12-05", "tgl 5/12/2026")),
        ("5 Desember", ("2026-12-05", "5 Desember")),
        ("5 des", ("2026-12-05", "5 des")),
        ("desember 5", ("2026-12-05", "desember 5")),
        ("tgl 5 desember", ("2026-12-05", "tgl 5 desember")),
        ("5 Desember 2026", ("2026-12-05", "5 Desember 2026")),
        ("December 5", ("2026-12-05", "December 5")),
        ("on the 5th of December", ("2026-12-05", "5th of December")),
        ("17 agustus", ("2027-08-17", "17 agustus")),
        ("3 hari lagi", ("2026-12-02", "3 hari lagi")),
        ("seminggu lagi", ("2026-12-06", "seminggu lagi")),
        ("in two weeks", ("2026-12-13", "in two weeks")),
    ],
)
def test_dates_on_a_sunday(
    extractor: EntityExtractor, text: str, expected: tuple[str, str]
) -> None:
    assert of_type(extractor, text, "date") == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("besok", "2026-12-01"),
        ("lusa", "2026-12-02"),
        ("tgl 5", "2026-12-05"),
        ("tgl 30", "2026-11-30"),
        ("tgl 31", "2026-12-31"),
        ("senin", "2026-12-07"),
        ("senin depan", "2026-12-07"),
        ("jumat", "2026-12-04"),
        ("jumat depan", "2026-12-11"),
        ("30/11", "2026-11-30"),
        ("29/11", "2027-11-29"),
    ],
)
def test_dates_on_the_last_day_of_a_month(
    extractor: EntityExtractor, text: str, expected: str
) -> None:
    assert [value for value, _ in of_type(extractor, text, "date", MONTH_END)] == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("besok", "2027-01-01"),
        ("lusa", "2027-01-02"),
        ("5/1", "2027-01-05"),
        ("31/12", "2026-12-31"),
        ("tgl 5", "2027-01-05"),
        ("senin", "2027-01-04"),
        ("senin depan", "2027-01-04"),
        ("jumat", "2027-01-01"),
        ("jumat dpn", "2027-01-08"),
        ("minggu depan", "2027-01-07"),
        ("5 Desember", "2027-12-05"),
        ("tomorrow", "2027-01-01"),
    ],
)
def test_dates_at_the_end_of_a_year(extractor: EntityExtractor, text: str, expected: str) -> None:
    assert [value for value, _ in of_type(extractor, text, "date", YEAR_END)] == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "sudah 3 minggu ktp blm jadi, gimana ini??",
        "antri 2 jam lebih",
        "umur 17 tahun",
        "loket 3 lantai 2",
        "bayar 50 ribu",
        "sudah 2 minggu nunggu",
        "desember",
    ],
)
def test_no_date_in_durations_and_numbers(extractor: EntityExtractor, text: str) -> None:
    assert of_type(extractor, text, "date") == []


# --- times ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("jam 9", ("09:00", "jam 9")),
        ("booking slot skck jam 9", ("09:00", "jam 9")),
        ("jam 10.30", ("10:30", "jam 10.30")),
        ("10:30 bisa?", ("10:30", "10:30")),
        ("jam 2 siang", ("14:00", "jam 2 siang")),
        ("pukul 8 pagi", ("08:00", "pukul 8 pagi")),
        ("jam 3 sore", ("15:00", "jam 3 sore")),
        ("jam 2", ("14:00", "jam 2")),
        ("9 am", ("09:00", "9 am")),
        ("at 2.30pm", ("14:30", "at 2.30pm")),
        ("pagi aja", ("pagi", "pagi")),
        ("lusa siang", ("siang", "siang")),
        ("sore", ("sore", "sore")),
        ("in the morning", ("pagi", "in the morning")),
        ("afternoon", ("sore", "afternoon")),
        ("at midday", ("siang", "midday")),
    ],
)
def test_times(extractor: EntityExtractor, text: str, expected: tuple[str, str]) -> None:
    assert of_type(extractor, text, "time") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "selamat pagi",
        "good morning",
        "pagi kak, mau tanya",
        "nunggu 1 jam 15 menit",
        "jam berapa buka",
    ],
)
def test_greetings_and_durations_are_not_times(extractor: EntityExtractor, text: str) -> None:
    assert of_type(extractor, text, "time") == []


def test_date_and_time_together(extractor: EntityExtractor) -> None:
    assert found(extractor, "besok pagi jam 8 ya") == [
        ("date", "2026-11-30", "besok"),
        ("time", "pagi", "pagi"),
        ("time", "08:00", "jam 8"),
    ]


# --- services ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sy mau bikin ktp bsk bisa gk", ("ktp_el_baru", "bikin ktp")),
        ("e-ktp", ("ktp_el_baru", "e-ktp")),
        ("ktpnya udah jadi?", ("ktp_el_baru", "ktpnya")),
        ("ktp hilang", ("ktp_el_penggantian", "ktp hilang")),
        ("ktp saya rusak gimana", ("ktp_el_penggantian", "ktp")),
        ("ktp-el sy hilang", ("ktp_el_penggantian", "ktp-el")),
        ("mau ganti ktp", ("ktp_el_penggantian", "ganti ktp")),
        ("I lost my id card", ("ktp_el_penggantian", "id card")),
        ("pasport", ("paspor", "pasport")),
        ("info paspor dong", ("paspor", "paspor")),
        ("what documents do I need for a passport", ("paspor", "passport")),
        ("perpanjang sim", ("sim_perpanjangan", "perpanjang sim")),
        ("kartu keluarga", ("kartu_keluarga", "kartu keluarga")),
        ("bikin kk bayar gk", ("kartu_keluarga", "bikin kk")),
        ("kk saya hilang", ("kartu_keluarga", "kk")),
        ("kartu keluraga", ("kartu_keluarga", "kartu keluraga")),
        ("akte lahir anak sy", ("akta_kelahiran", "akte lahir")),
        ("skck kak", ("skck", "skck")),
        ("how much is the SKCK fee", ("skck", "SKCK")),
        ("sertifkat tanah", ("pertanahan", "sertifkat tanah")),
        ("bayar pajak motor", ("pkb_tahunan", "pajak motor")),
        ("ganti plat", ("stnk_lima_tahunan", "ganti plat")),
        ("klaim jht", ("bpjs_ketenagakerjaan_jht", "klaim jht")),
        ("bpjs tk", ("bpjs_ketenagakerjaan_jht", "bpjs tk")),
        ("bisa urus npwp di sini?", ("npwp", "npwp")),
        ("npwpd hotel", ("npwpd", "npwpd")),
        ("bayar pbb", ("pbb_p2", "pbb")),
        ("izin usaha", ("nib_oss", "izin usaha")),
        ("pasang listrik baru", ("pln_pasang_baru", "pasang listrik baru")),
        ("PDAM", ("pdam_sambungan_baru", "PDAM")),
        ("PASPORRR", ("paspor", "PASPORRR")),
    ],
)
def test_services(extractor: EntityExtractor, text: str, expected: tuple[str, str]) -> None:
    assert of_type(extractor, text, "service") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "saya simpan berkas",
        "oke",
        "makasih kk",
        "syaratnya apa kk",
        "pelayanan di loket samsat lama bgt!!",
        "kak baru tau",
        "ganti kartu sim",
        "mau pindah jadwal",
    ],
)
def test_no_service(extractor: EntityExtractor, text: str) -> None:
    assert of_type(extractor, text, "service") == []


def test_fuzzy_matches_say_so_in_confidence(extractor: EntityExtractor) -> None:
    (entity,) = extractor.extract("sertifkat tanah", SUNDAY)
    assert 0.88 <= entity.confidence < 1.0
    (entity,) = extractor.extract("sertifikat tanah", SUNDAY)
    assert entity.confidence == 1.0


def test_two_services_in_one_message(extractor: EntityExtractor) -> None:
    assert of_type(extractor, "ktp atau kk dulu?", "service") == [
        ("ktp_el_baru", "ktp"),
        ("kartu_keluarga", "kk"),
    ]


def test_every_synonym_and_name_finds_its_own_service(extractor: EntityExtractor) -> None:
    catalogue = load_catalogue(ROOT / "services.yaml")
    wrong = []
    for service in catalogue.services.values():
        for name in [service.name_id, service.name_en, *service.synonyms]:
            values = [e.value for e in extractor.extract(name, SUNDAY)]
            if values != [service.id]:
                wrong.append((service.id, name, values))
    assert wrong == []


# --- ids and numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("cek tiket CARE-20261129-0042", "CARE-20261129-0042"),
        ("status care-20261129-0042 gmn", "care-20261129-0042"),
        ("CARE 20261129 42", "CARE 20261129 42"),
        ("care202611290042", "care202611290042"),
        ("CARE-2026-11-29-0042", "CARE-2026-11-29-0042"),
    ],
)
def test_ticket_ids(extractor: EntityExtractor, text: str, span: str) -> None:
    assert found(extractor, text) == [("ticket_id", "CARE-20261129-0042", span)]


def test_impossible_ticket_dates_are_not_ticket_ids(extractor: EntityExtractor) -> None:
    assert of_type(extractor, "CARE-20261329-0042", "ticket_id") == []
    assert of_type(extractor, "CARE-20261129-0000", "ticket_id") == []


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("booking B-7Q4M2X jadinya jam brp", "B-7Q4M2X"),
        ("kode b-7q4m2x", "b-7q4m2x"),
        ("kode booking B7Q4M2X", "B7Q4M2X"),
        ("b7q4m2x", "b7q4m2x"),
        ("B-KQZTWX", "B-KQZTWX"),
    ],
)
def test_booking_codes(extractor: EntityExtractor, text: str, span: str) -> None:
    value = "B-KQZTWX" if "KQZTWX" in span else "B-7Q4M2X"
    assert of_type(extractor, text, "booking_code") == [(value, span)]


@pytest.mark.parametrize(
    "text",
    [
        "BERKAS",
        "berkas bersama",
        "BERSAMA",
        "bandung",
        "B-7Q4M2",
        "B-7Q4M2XY",
        "B-0Q4M2X",
        "B-7Q1M2X",
    ],
)
def test_no_booking_code_in_words(extractor: EntityExtractor, text: str) -> None:
    assert of_type(extractor, text, "booking_code") == []


def test_nik_is_exactly_sixteen_digits(extractor: EntityExtractor) -> None:
    assert found(extractor, "nik sy 5103012345670001") == [
        ("nik", "5103012345670001", "5103012345670001")
    ]
    assert of_type(extractor, "nik: 5103012345670001.", "nik") == [
        ("5103012345670001", "5103012345670001")
    ]
    assert of_type(extractor, "510301234567000", "nik") == []  # 15 digits
    assert of_type(extractor, "51030123456700012", "nik") == []  # 17 digits
    assert found(extractor, "51030123456700012") == []


@pytest.mark.parametrize(
    ("text", "value", "span"),
    [
        ("hub sy di 081234567890 ya", "+6281234567890", "081234567890"),
        ("wa +62 812-3456-7890", "+6281234567890", "+62 812-3456-7890"),
        ("0812 3456 7890", "+6281234567890", "0812 3456 7890"),
        ("6281234567890", "+6281234567890", "6281234567890"),
        ("telp kantor (0361) 223344", "+62361223344", "(0361) 223344"),
    ],
)
def test_phones(extractor: EntityExtractor, text: str, value: str, span: str) -> None:
    assert found(extractor, text) == [("phone", value, span)]


@pytest.mark.parametrize(
    "text",
    [
        "5103012345670001",
        "CARE-20261129-0042",
        "05-12-2026",
        "tgl 5/12/2026",
        "Rp 1.000.000",
        "350.000",
    ],
)
def test_not_phones(extractor: EntityExtractor, text: str) -> None:
    assert of_type(extractor, text, "phone") == []


def test_a_long_message_with_everything(extractor: EntityExtractor) -> None:
    text = (
        "Halo kak, sy mau antri perpanjang SIM senin dpn jam 10.30, nik 5103012345670001, "
        "hp 0812-3456-7890. Booking lama B-7Q4M2X batal aja. Tiket CARE-20261129-0042 gmn?"
    )
    assert found(extractor, text) == [
        ("service", "sim_perpanjangan", "perpanjang SIM"),
        ("date", "2026-12-07", "senin dpn"),
        ("time", "10:30", "jam 10.30"),
        ("nik", "5103012345670001", "5103012345670001"),
        ("phone", "+6281234567890", "0812-3456-7890"),
        ("booking_code", "B-7Q4M2X", "B-7Q4M2X"),
        ("ticket_id", "CARE-20261129-0042", "CARE-20261129-0042"),
    ]


def test_offsets_survive_unusual_text(extractor: EntityExtractor) -> None:
    text = "İstanbul 🙏 PASPOR   bsk\tjam 9!! ktp\nhilang"
    assert found(extractor, text) == [
        ("service", "paspor", "PASPOR"),
        ("date", "2026-11-30", "bsk"),
        ("time", "09:00", "jam 9"),
        ("service", "ktp_el_penggantian", "ktp\nhilang"),
    ]


# --- language ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("sy mau bikin ktp bsk bisa gk", "id"),
        ("syaratnya apa", "id"),
        ("petugasnya jutek", "id"),
        ("halo kak", "id"),
        ("om swastiastu", "id"),
        ("thanks kak", "id"),
        ("what documents do I need for a passport", "en"),
        ("reschedule my booking to next monday", "en"),
        ("thank you", "en"),
        ("hello", "en"),
        ("ok", None),
        ("ktp", None),
        ("B-7Q4M2X", None),
        ("B-US8NEL", None),  # a code's letters are no words
        ("b-us8nel", None),
        ("cek CARE-20261130-0001", "id"),
        ("is B-IS4ME booked", "en"),
        ("", None),
    ],
)
def test_detect_language(text: str, expected: str | None) -> None:
    assert detect_language(text) == expected


# --- catalogue -----------------------------------------------------------------------


def test_catalogue_has_every_service_with_synonyms() -> None:
    catalogue = load_catalogue(default_catalogue_path())
    assert set(catalogue.services) == SERVICE_IDS
    for service in catalogue.services.values():
        assert service.synonyms, service.id
        assert service.agency in catalogue.agencies
        assert service.requirements and service.hours and service.daily_quota > 0
    assert catalogue.get("paspor") is not None and catalogue.get("nope") is None
    assert catalogue.get("paspor").name_en == "Indonesian passport (new or replacement)"  # type: ignore[union-attr]
    assert catalogue.mall["name_id"].startswith("Mal Pelayanan Publik")
    assert any(h["date"] == "2026-03-19" for h in catalogue.holidays)


def test_default_catalogue_is_the_repository_file() -> None:
    assert default_catalogue_path() == ROOT / "services.yaml"


@pytest.mark.skipif(
    not SHARED_SERVICES.is_file(), reason="shared/ research data not beside the repo"
)
def test_catalogue_copies_the_research_data_unchanged() -> None:
    added_by_omnihub = ("synonyms", "queue_prefix", "short_id", "short_en", "translations")
    added_to_mall = ("parking", "popular_services", "translations")
    shared = yaml.safe_load(SHARED_SERVICES.read_text(encoding="utf-8"))
    ours = yaml.safe_load((ROOT / "services.yaml").read_text(encoding="utf-8"))
    assert {k: v for k, v in ours["mall"].items() if k not in added_to_mall} == shared["mall"]
    assert ours["holidays_2026_bali"] == shared["holidays_2026_bali"]
    assert {
        slug: {k: v for k, v in agency.items() if k not in ("short", "translations")}
        for slug, agency in ours["agencies"].items()
    } == shared["agencies"]
    assert [s["id"] for s in ours["services"]] == [s["id"] for s in shared["services"]]
    assert {s["id"] for s in shared["services"]} == SERVICE_IDS
    for theirs, mine in zip(shared["services"], ours["services"], strict=True):
        assert {k: v for k, v in mine.items() if k not in added_by_omnihub} == theirs


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "services.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path


def _minimal() -> dict[str, object]:
    return {
        "agencies": {"imigrasi": {"name": "Kantor Imigrasi"}},
        "services": [
            {
                "id": "paspor",
                "name_id": "Paspor",
                "name_en": "Passport",
                "agency": "imigrasi",
                "counter": "B1",
                "requirements": ["KTP-el"],
                "fee": "Rp350.000",
                "duration_minutes": 30,
                "daily_quota": 50,
                "hours": {"mon_thu": "08:00-15:00"},
                "synonyms": ["pasport"],
            }
        ],
    }


def test_a_minimal_catalogue_loads(tmp_path: Path) -> None:
    catalogue = load_catalogue(_write(tmp_path, _minimal()))
    service = catalogue.services["paspor"]
    assert service.requirements == ["KTP-el"] and service.synonyms == ["pasport"]
    assert service.hours == {"mon_thu": "08:00-15:00"} and service.sources == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("services"), "'services' must be a non-empty list"),
        (lambda d: d.pop("agencies"), "'agencies' must be a non-empty mapping"),
        (
            lambda d: d["services"][0].pop("fee"),
            "service 'paspor': 'fee' must be a non-empty string",
        ),
        (
            lambda d: d["services"][0].update(daily_quota="many"),
            "'daily_quota' must be a positive whole number",
        ),
        (
            lambda d: d["services"][0].update(synonyms=[]),
            "service 'paspor': 'synonyms' must be a non-empty list",
        ),
        (
            lambda d: d["services"][0].update(agency="nasa"),
            "service 'paspor': unknown agency 'nasa'",
        ),
        (
            lambda d: d["services"].append(dict(d["services"][0])),
            "service 'paspor' is listed twice",
        ),
        (lambda d: d["services"][0].update(hours="always"), "'hours' must be a mapping"),
    ],
)
def test_catalogue_errors_name_the_place(tmp_path: Path, change: object, message: str) -> None:
    document = _minimal()
    change(document)  # type: ignore[operator]
    path = _write(tmp_path, document)
    with pytest.raises(CatalogueError) as error:
        load_catalogue(path)
    assert message in str(error.value) and str(path) in str(error.value)


def test_catalogue_errors_for_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="cannot read"):
        load_catalogue(tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("services: [\n  - id: x\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="not valid YAML"):
        load_catalogue(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="expected a mapping"):
        load_catalogue(listed)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Sunday 2026-11-29: complaints tell when something happened.
        ("sy sdh lapor minggu lalu", ("2026-11-22", "minggu lalu")),
        ("last week the counter was closed", ("2026-11-22", "last week")),
        ("udh bayar dr bulan lalu", ("2026-10-29", "bulan lalu")),
        ("laporan yg sy kirim senin kemarin", ("2026-11-23", "senin kemarin")),
        ("jumat lalu sy ke mpp", ("2026-11-27", "jumat lalu")),
        ("last friday the staff was rude", ("2026-11-27", "last friday")),
        ("move it to the day after tomorrow", ("2026-12-01", "the day after tomorrow")),
    ],
)
def test_past_dates_and_english_spans(
    extractor: EntityExtractor, text: str, expected: tuple[str, str]
) -> None:
    assert of_type(extractor, text, "date") == [expected]


@pytest.mark.parametrize("text", ["3 minggu lalu", "dua minggu lalu sy nunggu"])
def test_a_count_of_weeks_back_is_no_date(extractor: EntityExtractor, text: str) -> None:
    assert of_type(extractor, text, "date") == []
