"""Every word of the frozen-reports page (and the donor page's freeze form), in kk/ru/en."""

from __future__ import annotations

from typing import Any, Final

from trainops_reporting.handlers.reports import ReportRequest
from trainops_shared.auth import Principal
from trainops_shared.events.vocabulary import Language

FREEZE_ROLES: Final = ("reporting", "admin")
"""Who may freeze a report (as ``POST /reports/snapshots``)."""

SNAPSHOT_TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "snapshots_title": "Бекітілген есептер",
        "snapshots_intro": "Бекітілген есеп кейін келген оқиғаларға қарамастан өзгермейді: "
        "оның файлдары әр жүктеуде бірдей. Әр есеп қандай оқиғаларға дейінгі деректерді "
        "көрсететінін, k мәнін, анықтамалар нұсқасын және мазмұнның SHA-256 хешін сақтайды.",
        "freeze": "Осы есепті бекіту",
        "freeze_hint": "Кестенің қазіргі күйі өз тегімен сақталады.",
        "frozen": "Есеп бекітілді.",
        "none_yet": "Әзірге бекітілген есеп жоқ.",
        "created_at": "Бекітілген уақыты",
        "created_by": "Кім бекітті",
        "parameters": "Параметрлер",
        "positions": "Ағындардағы орны",
        "definitions_version": "Анықтамалар нұсқасы",
        "hash": "SHA-256",
        "files": "Файлдар",
        "changes": "Алдыңғысымен салыстыру",
        "busy": "Есептер әлі жаңа оқиғаларды өңдеп жатыр; бірнеше секундтан соң қайталаңыз.",
        "open_snapshots": "Бекітілген есептер",
    },
    "ru": {
        "snapshots_title": "Зафиксированные отчёты",
        "snapshots_intro": "Зафиксированный отчёт не меняется от последующих событий: его "
        "файлы при каждой загрузке одинаковы. Каждый хранит, до каких событий он учитывает "
        "данные, k, версию определений показателей и хеш SHA-256 содержимого.",
        "freeze": "Зафиксировать этот отчёт",
        "freeze_hint": "Таблица сохраняется в нынешнем виде вместе с её происхождением.",
        "frozen": "Отчёт зафиксирован.",
        "none_yet": "Зафиксированных отчётов пока нет.",
        "created_at": "Зафиксирован",
        "created_by": "Кем",
        "parameters": "Параметры",
        "positions": "Позиции в потоках",
        "definitions_version": "Версия определений",
        "hash": "SHA-256",
        "files": "Файлы",
        "changes": "Сравнить с предыдущим",
        "busy": "Отчёты ещё обрабатывают новые события; повторите через несколько секунд.",
        "open_snapshots": "Зафиксированные отчёты",
    },
    "en": {
        "snapshots_title": "Frozen reports",
        "snapshots_intro": "A frozen report does not change with later events: its files are "
        "the same at every download. Each one records the events its figures reflect, k, the "
        "indicator definitions' version and the SHA-256 of its content.",
        "freeze": "Freeze this report",
        "freeze_hint": "The table is kept as it is now, with its provenance.",
        "frozen": "The report is frozen.",
        "none_yet": "No report has been frozen yet.",
        "created_at": "Frozen at",
        "created_by": "By",
        "parameters": "Parameters",
        "positions": "Stream positions",
        "definitions_version": "Definitions version",
        "hash": "SHA-256",
        "files": "Files",
        "changes": "Compare with the previous one",
        "busy": "Reports are still applying new events; try again in a few seconds.",
        "open_snapshots": "Frozen reports",
    },
}


def freeze_form(
    principal: Principal, request: ReportRequest, lang: Language
) -> dict[str, Any] | None:
    """The donor page's freeze form for the table shown, for the roles that may freeze."""
    if principal.role not in FREEZE_ROLES:
        return None
    texts = SNAPSHOT_TEXTS[lang]
    return {
        "period": request.period,
        "training_id": str(request.training_id) if request.training_id else "",
        "by": list(request.by),
        "label": texts["freeze"],
        "hint": texts["freeze_hint"],
        "open": texts["open_snapshots"],
    }
