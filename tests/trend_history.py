"""Generated weekly history before the sample bulletins, for the trend tests and demos:
26 weeks from Monday 6 January 2025, one to three short bulletins a week, none in weeks
5, 6 and 17 (gaps), each mentioning drones, missiles, Kharkiv or Kharkov (the variant), at random."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlite_utils import Database

from bot.ingest import Limits, Submission, ingest

FIRST_MONDAY = date(2025, 1, 6)
WEEKS = 26
GAPS = {5, 6, 17}  # weeks (from 0) without any bulletin


def add_history(db: Database, limits: Limits | None = None) -> int:
    """Ingest the history; return how many bulletins it added."""
    rng = random.Random(3)
    added = 0
    for n in range(WEEKS):
        if n in GAPS:
            continue
        monday = FIRST_MONDAY + timedelta(weeks=n)
        for k in range(1 + n % 3):
            day = monday + timedelta(days=2 * k)
            sentences = [f"Point de situation numéro {n}-{k} sur le front."]
            if rng.random() < 0.6:
                sentences.append(f"Des drones ont frappé Odesa pendant {k + 2} heures.")
            if rng.random() < 0.4:
                sentences.append("Deux missiles ont visé Zaporijjia dans la nuit.")
            if rng.random() < 0.3:
                sentences.append("Kharkiv a de nouveau été bombardée.")
            if rng.random() < 0.2:
                sentences.append("Les défenses antiaériennes de Kharkov ont tenu.")
            if rng.random() < 0.2:
                sentences.append("Un autre drone a été abattu près de Dnipro.")
            text = f"Bilan {n}-{k}\n\n" + " ".join(sentences)
            name = f"{day.isoformat()}-bilan-{n}-{k}.txt"
            outcome = ingest(db, Submission("file", name, data=text.encode()), limits or Limits())
            added += outcome.status == "added"
    return added
