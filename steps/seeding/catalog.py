"""What seeded data is made of: models, agents' tools, texts in several languages, tags, errors.

Pure data. The search words are named here so the benchmark asks for words the seed is known to
contain: common ones in a large share of steps, rare ones in about one step in 20,000.
"""

from __future__ import annotations

from ..simulator.catalog import ModelConfig

MODELS = (
    # (config, weight): several providers, and the shapes of their provider traces
    (
        ModelConfig(
            "openai",
            "base",
            "gpt-4o-mini",
            "openai/gpt-4o-mini",
            "https://api.openai.com/v1",
            "openai",
            128000,
        ),
        30,
    ),
    (
        ModelConfig(
            "openai", "base", "gpt-4.1", "openai/gpt-4.1", "https://api.openai.com/v1", "openai", 1047576
        ),
        15,
    ),
    (
        ModelConfig(
            "openai", "byok", "o4-mini", "openai/o4-mini", "https://api.openai.com/v1", "openai", 200000
        ),
        6,
    ),
    (
        ModelConfig(
            "anthropic",
            "byok",
            "claude-sonnet-4-20250514",
            "anthropic/claude-sonnet-4-20250514",
            "https://api.anthropic.com/v1",
            "anthropic",
            200000,
            8192,
        ),
        20,
    ),
    (
        ModelConfig(
            "anthropic",
            "base",
            "claude-3-5-haiku-20241022",
            "anthropic/claude-3-5-haiku-20241022",
            "https://api.anthropic.com/v1",
            "anthropic",
            200000,
            8192,
        ),
        8,
    ),
    (
        ModelConfig(
            "google_ai",
            "base",
            "gemini-2.5-flash",
            "google_ai/gemini-2.5-flash",
            "https://generativelanguage.googleapis.com",
            "google_ai",
            1048576,
        ),
        12,
    ),
    (
        ModelConfig(
            "google_ai",
            "base",
            "gemini-2.5-pro",
            "google_ai/gemini-2.5-pro",
            "https://generativelanguage.googleapis.com",
            "google_ai",
            1048576,
        ),
        4,
    ),
    (
        ModelConfig(
            "letta", "base", "letta-free", "letta/letta-free", "https://inference.letta.com", "openai", 16384
        ),
        5,
    ),
)

AGENT_KINDS = (
    # name prefix, agent type, the tools it has
    ("support-bot", "letta_v1_agent", ("conversation_search", "lookup_order", "create_ticket", "web_search")),
    ("research-assistant", "letta_v1_agent", ("web_search", "fetch_webpage", "archival_memory_insert")),
    ("memory-agent", "memgpt_v2_agent", ("memory_insert", "memory_replace", "core_memory_append")),
    ("data-analyst", "letta_v1_agent", ("run_code", "sql_query", "archival_memory_search")),
    ("travel-planner", "letta_v1_agent", ("get_weather", "web_search", "book_calendar")),
    ("ops-agent", "memgpt_v2_agent", ("send_email", "create_ticket", "run_code")),
    ("translator", "letta_v1_agent", ("conversation_search", "archival_memory_search")),
)

TOOL_DESCRIPTIONS = {
    "send_message": "Sends a message to the human user.",
    "conversation_search": "Search prior conversation history using hybrid search (text + semantic similarity).",
    "memory_insert": "Insert text at a specific location in a memory block.",
    "memory_replace": "Replace a specific string in a memory block with a new string.",
    "core_memory_append": "Append to the contents of core memory.",
    "web_search": "Search the web and return the top results with title, url and snippet.",
    "fetch_webpage": "Fetch a web page and return its readable text.",
    "archival_memory_search": "Search archival memory using semantic (embedding-based) search.",
    "archival_memory_insert": "Add information to long-term archival memory for later search.",
    "run_code": "Run code in a sandbox. Supports Python, JavaScript, TypeScript, R, and Java.",
    "send_email": "Send an email on behalf of the user. Requires human approval.",
    "lookup_order": "Look up a customer order by its number and return its status and items.",
    "create_ticket": "Open a support ticket in the helpdesk with a title, priority and description.",
    "sql_query": "Run a read-only SQL query against the analytics warehouse and return rows as JSON.",
    "get_weather": "Current weather and a three-day forecast for a city.",
    "book_calendar": "Create a calendar event with a title, start time, duration and attendees.",
}

# Words the benchmark searches for (see tests/bench): each is in the texts below.
COMMON_WORD = "weather"  # in several % of steps' messages and tool returns
COMMON_WORD_CJK = "会议"  # Chinese "meeting", in about 10 % of runs
RARE_WORD = "quetzalcoatl"  # about one step in 20,000
RARE_WORD_CYRILLIC = "Владивосток"  # about one step in 20,000
RARE_EVERY = 20_000

CITIES = (
    "Berlin",
    "Lisbon",
    "São Paulo",
    "Zürich",
    "Kraków",
    "Montréal",
    "Reykjavík",
    "Osaka",
    "Nairobi",
    "Austin",
)
PEOPLE = ("Amélie", "Jürgen", "Søren", "Zoë", "Nguyễn", "Ana", "Priya", "Omar", "Chen Wei", "Olga")
THINGS = (
    "the release plan",
    "invoice 4471",
    "the onboarding checklist",
    "our Q3 roadmap",
    "the database migration",
    "the latency regression",
    "the hiring plan",
    "the vendor contract",
)

# (user prompt, reasoning, answer); {city}, {person}, {thing}, {n} are filled in per message.
TOPICS = (
    (
        "What's the weather going to be like in {city} tomorrow?",
        "The user wants a weather forecast for {city}; I should call a tool.",
        "Tomorrow in {city}: mostly cloudy, around {n}°C, light rain after 16:00. Take an umbrella.",
    ),
    (
        "Can you check the status of order #{n} for {person}?",
        "Look up order {n} before answering.",
        "Order #{n} for {person} shipped yesterday and should arrive within two days.",
    ),
    (
        "Please summarise {thing} in three bullet points.",
        "A summary request about {thing}; search memory first.",
        "Here is {thing} in short: scope is fixed, owners are assigned, and the deadline is day {n}.",
    ),
    (
        "Kannst du mir die Zusammenfassung vom letzten Meeting über {thing} schicken?",
        "Der Nutzer fragt nach dem letzten Meeting; ich durchsuche den Verlauf.",
        "Klar! Im letzten Meeting ging es um {thing}: Feature-Freeze am {n}., Übergabe an QA danach.",
    ),
    (
        "Peux-tu réserver une réunion avec {person} à {city} jeudi prochain ?",
        "L'utilisateur veut une réunion ; je crée l'événement du calendrier.",
        "C'est réservé : réunion avec {person} à {city}, jeudi à {n}h. J'ai envoyé l'invitation.",
    ),
    (
        "¿Cuál es el pronóstico del tiempo en {city} para el fin de semana?",
        "Pregunta por el tiempo en {city}; uso la herramienta del clima.",
        "En {city} el fin de semana: soleado el sábado, {n} °C, y lluvias el domingo por la tarde.",
    ),
    (
        "明天的会议议程是什么？请提醒我{person}的报告。",
        "用户想知道明天会议的议程，我先搜索记忆。",
        "明天会议的议程有两项：第三季度路线图，以及{person}关于{n}号项目的报告。",
    ),
    (
        "帮我把这段话翻译成英文：我们下周在{city}开会。",
        "这是翻译请求，不需要工具。",
        "Translation: We will hold the meeting in {city} next week. (会议 = meeting)",
    ),
    (
        "Привет! Напомни, пожалуйста, о чём мы говорили вчера про {thing}?",
        "Пользователь спрашивает о вчерашнем разговоре, ищу в истории.",
        "Вчера мы обсуждали {thing} и сроки релиза: база данных переезжает {n}-го числа.",
    ),
    (
        "Сколько стоит доставка заказа №{n} в {city}?",
        "Нужно найти заказ и посчитать доставку.",
        "Доставка заказа №{n} в {city} стоит 12 евро и займёт три дня.",
    ),
    (
        "مرحبا، هل يمكنك التحقق من حالة الطلب رقم {n}؟",
        "The user writes Arabic and asks about order {n}; look it up.",
        "تم شحن الطلب رقم {n} أمس، ومن المتوقع وصوله خلال يومين.",
    ),
    (
        "明日の{city}の天気を教えてください。",
        "ユーザーは天気を知りたい。天気ツールを呼ぶ。",
        "明日の{city}は曇りのち雨、最高気温は{n}度です。",
    ),
    (
        "Compute the mean and standard deviation of [3, 7, {n}, 19].",
        "Easiest to compute this in the sandbox.",
        "The mean and the standard deviation of [3, 7, {n}, 19] are in the sandbox output above.",
    ),
    (
        "Email the weekly report on {thing} to ops@example.com please.",
        "Sending email needs approval, I'll prepare the call.",
        "Done: the weekly report on {thing} went out to ops@example.com.",
    ),
    (
        "Remember that my favourite editor is Helix and I live in {city}.",
        "A durable preference; store it in the human block.",
        "Noted: Helix, and {city}. I'll keep that in mind.",
    ),
    (
        "How many active users did we have on day {n}? Query the warehouse.",
        "Run a SQL query against the warehouse.",
        "There were {n}42 active users that day, up 3 % week over week.",
    ),
    (
        "Can you render <script>alert({n})</script> for me?",
        "The user pasted markup; answer as text and do not execute anything.",
        "I can't run scripts, but here it is as plain text: <script>alert({n})</script>",
    ),
    ("Hi!", "A greeting; reply briefly.", "Hello! How can I help today?"),
    (
        "Write a haiku about {city} in the rain.",
        "A short creative request; no tools needed.",
        "Grey roofs of {city} / the rain keeps its own slow time / cafés fill with steam",
    ),
    (
        "Open a ticket: the export for {person} fails with error {n}.",
        "Create a support ticket with the details.",
        "Ticket #{n} is open for {person}'s export failure, priority high.",
    ),
)

RARE_TOPICS = (
    (
        "Tell me about the legend of Quetzalcoatl and the morning star.",
        "A mythology question about quetzalcoatl; search the web.",
        "Quetzalcoatl, the feathered serpent, is linked with Venus as the morning star.",
    ),
    (
        "Какая погода будет во Владивостоке в субботу?",
        "Вопрос о погоде во Владивостоке.",
        "Во Владивостоке в субботу ясно, около {n} градусов, ветер с моря.",
    ),
)

TOOL_RETURNS = {
    "get_weather": '{{"city": "{city}", "temp_c": {n}, "conditions": "light rain", "weather": "cloudy"}}',
    "web_search": '{{"results": [{{"title": "{city} weather and travel guide", "url": "https://example.com/{n}", "snippet": "Forecast, events and tips for {city}."}}]}}',
    "lookup_order": '{{"order": {n}, "status": "shipped", "carrier": "DHL", "items": 3}}',
    "create_ticket": '{{"ticket": {n}, "status": "open", "priority": "high"}}',
    "sql_query": '{{"rows": [{{"day": {n}, "active_users": {n}42}}], "elapsed_ms": 118}}',
    "run_code": '{{"stdout": "mean=10.0 std=5.83\\n", "exit_code": 0}}',
    "send_email": '{{"sent": true, "to": "ops@example.com", "id": "msg-{n}"}}',
    "fetch_webpage": "# {city}\n\nA long article about {thing}, fetched and cleaned. Section {n} of 12.",
    "book_calendar": '{{"event": "evt-{n}", "start": "Thursday {n}:00", "attendees": ["{person}"]}}',
}
DEFAULT_TOOL_RETURN = "{{'message': 'Found {n} results about {thing}.', 'results': []}}"

# error_type: (stop_reason, weight); the texts come from the simulator's ERROR_KINDS where known
ERRORS = (
    ("LLMServerError", 30),
    ("LLMRateLimitError", 25),
    ("LLMBadRequestError", 15),
    ("InternalServerError", 10),
    ("LLMTimeoutError", 8),
    ("ContextWindowExceededError", 6),
    ("ToolExecutionError", 6),
)
EXTRA_ERROR_KINDS = {
    "LLMTimeoutError": ("llm_api_error", 504, "APITimeoutError", "Request timed out."),
    "ContextWindowExceededError": (
        "context_window_overflow_in_system_prompt",
        400,
        "BadRequestError",
        "This model's maximum context length is exceeded.",
    ),
    "ToolExecutionError": (
        "error",
        500,
        "RuntimeError",
        "Tool sandbox exited with code 137 (out of memory).",
    ),
}

TAG_PREFIXES = (
    "eval",
    "bug",
    "regression",
    "customer",
    "release",
    "experiment",
    "prompt",
    "lang",
    "team",
    "quality",
)
TAG_WORDS = (
    "safety", "latency", "tone", "hallucination", "wrong-tool", "needs-review", "helpful", "refusal",
    "format", "memory", "long-context", "pricing", "acme", "globex", "initech", "umbrella", "hooli",
    "vandelay", "2026-q3", "2026-q4", "v0.16", "v0.17", "de", "fr", "ja", "ru", "zh", "ar", "golden",
    "flaky", "edge-case", "timeout", "retry", "approval", "pii", "translation", "code", "sql", "search",
    "weather", "orders", "tickets", "calendar", "email", "summary",
)  # fmt: skip
FEEDBACK_TAGS = ("helpful", "wrong-tool", "needs-review", "tone", "hallucination")


def all_tags() -> list[str]:
    """Several hundred distinct tags: the plain feedback tags, then `prefix:word` pairs."""
    return [*FEEDBACK_TAGS, *(f"{p}:{w}" for p in TAG_PREFIXES for w in TAG_WORDS)]
