"""Every word of the import pages, in Kazakh, Russian and English: the form, the explanation
of accepted files, and each problem a file, a header cell or a field can have."""

from __future__ import annotations

from typing import Final

from trainops_shared.events.vocabulary import Language

TEXTS: Final[dict[Language, dict[str, str]]] = {
    "kk": {
        "title": "Тізімді файлдан жүктеу",
        "done_title": "Тізім жүктелді",
        "refused_title": "Файлда түзетілетін жолдар бар",
        "intro": (
            "Қатысушылар тізімін бір сессияға бірден тіркеңіз. Файл толық дұрыс болғанда ғана "
            "жүктеледі: қатесі бар файлдан ешкім тіркелмейді."
        ),
        "session": "Сессия",
        "choose_session": "— сессияны таңдаңыз —",
        "file": "Файл (CSV немесе XLSX)",
        "file_hint": "1 МБ-қа дейін, 1000 жолға дейін.",
        "submit": "Тексеру және жүктеу",
        "accepted_title": "Қандай файлдар қабылданады",
        "accepted_xlsx": "Excel кітабы (.xlsx): бірінші парақ оқылады.",
        "accepted_csv": (
            "CSV: Excel-дің «CSV UTF-8» және кәдімгі «CSV (нүктелі үтірмен бөлінген)» "
            "түрлері (Windows-1251 кодталуы), үтір, нүктелі үтір немесе табуляция арқылы "
            "бөлінген."
        ),
        "accepted_xls": "Ескі .xls файлдарын алдымен «.xlsx» немесе CSV ретінде сақтаңыз.",
        "accepted_header": (
            "Бірінші жол — бағандардың атаулары (қазақша, орысша немесе ағылшынша). "
            "Міндетті бағандар: {required}. Қалғандары бос болуы мүмкін."
        ),
        "accepted_words": "Сала, жынысы, жас тобы мен тіл бағандарында мына сөздер жазылады:",
        "template": "Үлгіні жүктеп алу:",
        "template_xlsx": "XLSX үлгісі",
        "template_csv": "CSV үлгісі",
        "no_sessions": "Сіздің өңіріңізде тіркеу ашық сессиялар жоқ.",
        "row": "Жол",
        "column": "Баған",
        "value": "Мәні",
        "problem": "Не дұрыс емес",
        "table_caption": "Әр жолдың әр қатесі (жол нөмірі — Excel-дегідей)",
        "summary": "{rows} жолда {count} қате табылды. Ештеңе жүктелген жоқ.",
        "fix_and_retry": "Файлды түзетіп, қайта жүктеңіз:",
        "done": "{imported} қатысушы тіркелді: {confirmed} расталды, {waitlisted} күту тізімінде.",
        "back": "Сессияларға оралу",
        "again": "Тағы бір файл жүктеу",
        "example_name": "Айгерім Сейітқали",
        "example_email": "aigerim@example.kz",
        "example_phone": "+7 701 123 45 67",
        "example_organisation": "«Алматы апталығы» газеті",
        # Form errors
        "session_required": "Сессияны таңдаңыз.",
        "session_unknown": "Бұл сессия сіздің өңіріңіздің тіркеу ашық сессиялары арасында жоқ.",
        "file_required": "Жүктелетін файлды таңдаңыз.",
        # Whole-file problems
        "file_empty": "Файл бос.",
        "file_too_large": "Файл тым үлкен ({detail} КБ-тан артық). Оны бірнеше файлға бөліңіз.",
        "too_many_rows": "Бір файлда ең көбі {detail} жол болады. Файлды бөліңіз.",
        "too_many_columns": "Жолда {detail} ұяшықтан көп. Тек қатысушы бағандарын қалдырыңыз.",
        "not_text": (
            "Файлды мәтін ретінде оқу мүмкін емес. Excel-де «CSV UTF-8» немесе «.xlsx» "
            "ретінде сақтаңыз."
        ),
        "not_csv": (
            "{detail}-жол дұрыс CSV емес (жабылмаған тырнақша немесе тым ұзын ұяшық). "
            "Файлды Excel-де ашып, қайта сақтаңыз."
        ),
        "not_xlsx": "Файл Excel кітабы (.xlsx) ретінде оқылмады. Excel-де қайта сақтаңыз.",
        "xls": "Ескі .xls файлдары оқылмайды. Excel-де «.xlsx» немесе CSV ретінде сақтаңыз.",
        "no_header": "Файлда бағандардың атаулары бар бірінші жол жоқ.",
        "no_rows": "Файлда тек баған атаулары бар, қатысушылар жоқ.",
        # Header and field problems
        "missing_column": "Міндетті баған жоқ.",
        "unknown_column": "Белгісіз баған. Рұқсат етілген бағандар: {columns}.",
        "duplicate_column": "Бұл баған екі рет берілген.",
        "required": "Толтыру міндетті.",
        "unknown_choice": "Мына мәндердің бірін жазыңыз: {allowed}.",
        "unknown_city": "Белгісіз қала. Қала атауын немесе кодын жазыңыз (мысалы, Алматы).",
        "other_region": "Сіз тек {region} қатысушыларын жүктей аласыз.",
        "not_session_city": "Бұл сессия осы қаладан қатысушы қабылдамайды.",
        "extra_values": (
            "Жолда бағандардан көп мән бар (мысалы, аты-жөнінде тырнақшасыз үтір): {value}."
        ),
        "duplicate_row": "Бұл адам {other_row}-жолда бұрын жазылған.",
        "already_registered": "Бұл қатысушы осы сессияға бұрын тіркелген.",
        "refused": "Тіркеу қабылданбады: {reason}",
        "invalid_full_name": (
            "Аты-жөні 2–200 таңбадан тұрып, кемінде бір әріптен және басқару таңбаларынсыз "
            "болуы керек."
        ),
        "invalid_email": "Электрондық пошта мекенжайы дұрыс емес.",
        "invalid_phone": "Телефон нөмірі дұрыс емес (мысалы, +7 701 123 45 67).",
        "invalid_organisation": "Ұйым атауы 200 таңбадан аспауы керек.",
        "invalid_city": "Қала коды дұрыс емес.",
    },
    "ru": {
        "title": "Загрузка списка из файла",
        "done_title": "Список загружен",
        "refused_title": "В файле есть строки, которые нужно исправить",
        "intro": (
            "Зарегистрируйте список участников на одну сессию сразу. Файл загружается, только "
            "когда он полностью правильный: из файла с ошибками не регистрируется никто."
        ),
        "session": "Сессия",
        "choose_session": "— выберите сессию —",
        "file": "Файл (CSV или XLSX)",
        "file_hint": "До 1 МБ и до 1000 строк.",
        "submit": "Проверить и загрузить",
        "accepted_title": "Какие файлы принимаются",
        "accepted_xlsx": "Книга Excel (.xlsx): читается первый лист.",
        "accepted_csv": (
            "CSV: «CSV UTF-8» и обычный «CSV (разделители — точки с запятой)» из Excel "
            "(кодировка Windows-1251), с разделителем запятая, точка с запятой или табуляция."
        ),
        "accepted_xls": "Старые файлы .xls сначала сохраните как «.xlsx» или CSV.",
        "accepted_header": (
            "Первая строка — названия столбцов (на казахском, русском или английском). "
            "Обязательные столбцы: {required}. Остальные могут быть пустыми."
        ),
        "accepted_words": "В столбцах сектора, пола, возрастной группы и языка пишутся слова:",
        "template": "Скачать шаблон:",
        "template_xlsx": "шаблон XLSX",
        "template_csv": "шаблон CSV",
        "no_sessions": "В вашем регионе нет сессий с открытой регистрацией.",
        "row": "Строка",
        "column": "Столбец",
        "value": "Значение",
        "problem": "Что не так",
        "table_caption": "Каждая ошибка каждой строки (номера строк — как в Excel)",
        "summary": "Найдено ошибок: {count}, строк с ошибками: {rows}. Ничего не загружено.",
        "fix_and_retry": "Исправьте файл и загрузите его снова:",
        "done": (
            "Зарегистрировано участников: {imported}. Подтверждено: {confirmed}, "
            "в листе ожидания: {waitlisted}."
        ),
        "back": "Вернуться к сессиям",
        "again": "Загрузить ещё один файл",
        "example_name": "Айгерим Сейткали",
        "example_email": "aigerim@example.kz",
        "example_phone": "+7 701 123 45 67",
        "example_organisation": "Газета «Алматинский еженедельник»",
        "session_required": "Выберите сессию.",
        "session_unknown": "Этой сессии нет среди сессий вашего региона с открытой регистрацией.",
        "file_required": "Выберите файл для загрузки.",
        "file_empty": "Файл пустой.",
        "file_too_large": "Файл слишком большой (больше {detail} КБ). Разделите его на части.",
        "too_many_rows": "В одном файле не больше {detail} строк. Разделите файл.",
        "too_many_columns": (
            "В строке больше {detail} ячеек. Оставьте только столбцы с данными участников."
        ),
        "not_text": (
            "Файл не читается как текст. Сохраните его в Excel как «CSV UTF-8» или «.xlsx»."
        ),
        "not_csv": (
            "Строка {detail} — неправильный CSV (незакрытая кавычка или слишком длинная "
            "ячейка). Откройте файл в Excel и сохраните заново."
        ),
        "not_xlsx": "Файл не читается как книга Excel (.xlsx). Сохраните его в Excel заново.",
        "xls": "Старые файлы .xls не читаются. Сохраните файл в Excel как «.xlsx» или CSV.",
        "no_header": "В файле нет первой строки с названиями столбцов.",
        "no_rows": "В файле только названия столбцов, участников нет.",
        "missing_column": "Нет обязательного столбца.",
        "unknown_column": "Неизвестный столбец. Допустимые столбцы: {columns}.",
        "duplicate_column": "Этот столбец указан дважды.",
        "required": "Обязательное поле.",
        "unknown_choice": "Укажите одно из значений: {allowed}.",
        "unknown_city": "Неизвестный город. Напишите название или код города (например, Алматы).",
        "other_region": "Вы можете загружать только участников из региона {region}.",
        "not_session_city": "Эта сессия не принимает участников из этого города.",
        "extra_values": (
            "В строке больше значений, чем столбцов (например, запятая в ФИО без кавычек): {value}."
        ),
        "duplicate_row": "Этот человек уже записан в строке {other_row}.",
        "already_registered": "Этот участник уже зарегистрирован на эту сессию.",
        "refused": "Регистрация отклонена: {reason}",
        "invalid_full_name": (
            "ФИО должно содержать от 2 до 200 символов, хотя бы одну букву и не содержать "
            "управляющих символов."
        ),
        "invalid_email": "Неправильный адрес электронной почты.",
        "invalid_phone": "Неправильный номер телефона (например, +7 701 123 45 67).",
        "invalid_organisation": "Название организации — не больше 200 символов.",
        "invalid_city": "Неправильный код города.",
    },
    "en": {
        "title": "Import a list from a file",
        "done_title": "List imported",
        "refused_title": "The file has rows to correct",
        "intro": (
            "Register a list of participants for one session at once. The file is imported "
            "only when all of it is right: nobody is registered from a file with errors."
        ),
        "session": "Session",
        "choose_session": "— choose a session —",
        "file": "File (CSV or XLSX)",
        "file_hint": "Up to 1 MB and 1000 rows.",
        "submit": "Check and import",
        "accepted_title": "Which files are accepted",
        "accepted_xlsx": "An Excel workbook (.xlsx): its first sheet is read.",
        "accepted_csv": (
            "CSV: Excel's “CSV UTF-8” and plain “CSV (semicolon delimited)” (Windows-1251 "
            "encoding), separated by commas, semicolons or tabs."
        ),
        "accepted_xls": "Save old .xls files as “.xlsx” or CSV first.",
        "accepted_header": (
            "The first row names the columns (in Kazakh, Russian or English). Required "
            "columns: {required}. The others may be empty."
        ),
        "accepted_words": "The sector, sex, age band and language columns take these words:",
        "template": "Download a template:",
        "template_xlsx": "XLSX template",
        "template_csv": "CSV template",
        "no_sessions": "Your region has no sessions open for registration.",
        "row": "Row",
        "column": "Column",
        "value": "Value",
        "problem": "What is wrong",
        "table_caption": "Every problem of every row (row numbers as Excel shows them)",
        "summary": "{count} problems in {rows} rows. Nothing was imported.",
        "fix_and_retry": "Correct the file and upload it again:",
        "done": (
            "Participants registered: {imported} ({confirmed} confirmed, {waitlisted} waitlisted)."
        ),
        "back": "Back to sessions",
        "again": "Import another file",
        "example_name": "Aigerim Seitkali",
        "example_email": "aigerim@example.kz",
        "example_phone": "+7 701 123 45 67",
        "example_organisation": "Almaty Weekly",
        "session_required": "Choose a session.",
        "session_unknown": (
            "This session is not one of your region's sessions open for registration."
        ),
        "file_required": "Choose a file to upload.",
        "file_empty": "The file is empty.",
        "file_too_large": "The file is too large (over {detail} KB). Split it into smaller files.",
        "too_many_rows": "At most {detail} rows per file. Split the file.",
        "too_many_columns": (
            "A row has more than {detail} cells. Keep only the participant columns."
        ),
        "not_text": "The file cannot be read as text. Save it in Excel as “CSV UTF-8” or “.xlsx”.",
        "not_csv": (
            "Row {detail} is not valid CSV (an unclosed quote or an overlong cell). Open the "
            "file in Excel and save it again."
        ),
        "not_xlsx": "The file cannot be read as an Excel workbook (.xlsx). Save it again in Excel.",
        "xls": "Old .xls files are not read. Save the file in Excel as “.xlsx” or CSV.",
        "no_header": "The file has no first row naming the columns.",
        "no_rows": "The file has only the column names and no participants.",
        "missing_column": "A required column is missing.",
        "unknown_column": "Unknown column. The columns are: {columns}.",
        "duplicate_column": "This column is given twice.",
        "required": "Required.",
        "unknown_choice": "Write one of: {allowed}.",
        "unknown_city": "Unknown city. Write the city's name or code (for example, Almaty).",
        "other_region": "You can import participants of {region} only.",
        "not_session_city": "This session does not take participants from this city.",
        "extra_values": (
            "The row has more values than columns (for example, a comma in a name without "
            "quotes): {value}."
        ),
        "duplicate_row": "This person is already on row {other_row}.",
        "already_registered": "This participant is already registered for this session.",
        "refused": "The registration was refused: {reason}",
        "invalid_full_name": (
            "A full name has 2 to 200 characters, at least one letter and no control characters."
        ),
        "invalid_email": "Not a valid e-mail address.",
        "invalid_phone": "Not a valid phone number (for example, +7 701 123 45 67).",
        "invalid_organisation": "An organisation's name has at most 200 characters.",
        "invalid_city": "Not a valid city code.",
    },
}
