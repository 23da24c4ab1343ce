"""A generator of realistic French weekly bulletins (~4 KB), deterministic by seed.

Used by the benchmarks (ingest, search) and by tests that need many bulletins. The text
is assembled from sentence patterns in the style of the sample round-ups: places, actors,
numbers, quotations, several sections each with its own heading.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from datetime import date, timedelta

PLACES = [
    "Kharkiv", "Zaporijjia", "Kyiv", "Odessa", "Dnipro", "Soumy", "Kherson", "Pokrovsk",
    "Koursk", "Belgorod", "Lviv", "Mykolaïv", "Donetsk", "Louhansk", "Tchernihiv", "Krasnodar",
    "Kramatorsk", "Sloviansk", "Bakhmout", "Avdiïvka", "Vovtchansk", "Koupiansk", "Izioum",
    "Lyman", "Toretsk", "Tchassiv Iar", "Kostiantynivka", "Orikhiv", "Houliaïpole", "Nikopol",
    "Kryvyï Rih", "Poltava", "Vinnytsia", "Jytomyr", "Rivne", "Loutsk", "Ternopil", "Ouman",
    "Tcherkassy", "Kropyvnytskyï", "Sébastopol", "Marioupol", "Berdiansk", "Melitopol",
]  # fmt: skip
ACTORS = [
    "le président Zelensky", "Donald Trump", "le Pentagone", "l’OTAN", "la Commission européenne",
    "le ministère de la Défense", "l’état-major ukrainien", "le Kremlin", "Mark Rutte",
    "le renseignement militaire (HUR)", "le gouvernement britannique", "l’Union européenne",
    "Emmanuel Macron", "Keir Starmer", "Friedrich Merz", "Ursula von der Leyen", "Kaja Kallas",
    "le général Syrsky", "Ioulia Svyrydenko", "Denys Chmyhal", "Roustem Oumerov", "Keith Kellogg",
    "le Conseil de sécurité de l’ONU", "l’AIEA", "la Banque mondiale", "le FMI", "Andriï Iermak",
    "le ministère des Affaires étrangères", "la police nationale", "les services d’urgence (DSNS)",
]  # fmt: skip
WEAPONS = [
    "missiles Patriot", "drones Shahed", "missiles Thales", "obus d’artillerie", "drones d’interception",
    "systèmes IRIS-T", "véhicules blindés", "robots terrestres", "missiles de croisière",
    "chars Leopard", "avions F-16", "systèmes NASAMS", "missiles ATACMS", "lance-roquettes HIMARS",
    "missiles Storm Shadow", "canons Caesar", "drones FPV", "bombes planantes", "missiles Iskander",
    "missiles Kinjal", "systèmes SAMP/T", "obus de 155 mm", "véhicules Bradley", "hélicoptères",
]  # fmt: skip
PATTERNS = [
    "Au début de la semaine, la Russie a frappé {place} avec {n} {weapon}, endommageant des immeubles résidentiels.",
    "Selon {actor}, {n} {weapon} ont été livrés à l’Ukraine depuis le début du mois.",
    "Les frappes nocturnes sur {place} ont fait {small} morts et {n} blessés, selon les autorités locales.",
    "{actor_cap} a annoncé un nouveau paquet d’aide de {money} millions de dollars comprenant des {weapon}.",
    "Les forces ukrainiennes ont repoussé {small} assauts près de {place} au cours des dernières vingt-quatre heures.",
    "La part des composants étrangers dans les {weapon} atteint désormais {pct} %, indique {actor}.",
    "À {place}, les secouristes ont travaillé toute la nuit pour dégager les décombres après l’attaque.",
    "« Nous continuerons à soutenir l’Ukraine aussi longtemps qu’il le faudra », a déclaré {actor}.",
    "Des drones ukrainiens à longue portée ont touché une raffinerie dans la région de {place}.",
    "Un accord a été signé pour la livraison de {n} {weapon} d’ici la fin de l’année.",
    "{actor_cap} a rencontré ses homologues à {place} pour discuter de la défense aérienne.",
    "Les combats restent intenses autour de {place}, où la situation est qualifiée de difficile.",
    "Le nombre de {weapon} lancés cette semaine constitue un nouveau record, avec {n} unités.",
    "Les autorités de {place} ont annoncé l’évacuation de {n} habitants des zones proches du front.",
]  # fmt: skip
HEADINGS = [
    "{actor_cap} promet de nouvelles livraisons de {weapon}",
    "Frappes massives sur {place} : le bilan s’alourdit",
    "L’Ukraine renforce sa production de {weapon}",
    "Accord historique sur les {weapon}",
]  # fmt: skip


def _fill(rng: random.Random, pattern: str) -> str:
    actor = rng.choice(ACTORS)
    return pattern.format(
        place=rng.choice(PLACES),
        actor=actor,
        actor_cap=actor[0].upper() + actor[1:],
        weapon=rng.choice(WEAPONS),
        n=rng.randint(10, 900),
        small=rng.randint(2, 40),
        money=rng.choice([150, 300, 500, 1200]),
        pct=rng.randint(20, 80),
    )


def bulletin(rng: random.Random, number: int, target_bytes: int = 4000) -> tuple[str, str]:
    """One bulletin: (file name, text) of about `target_bytes` bytes."""
    day = date(2020, 1, 3) + timedelta(days=7 * (number % 600))
    first = 100 + number
    parts = [f"Bilan de la semaine. {first}-{first + 6} jours de résistance"]
    size = len(parts[0])
    sections = 1 + rng.randint(1, 2)
    section = 0
    while size < target_bytes:
        if section < sections - 1 and size > target_bytes * (section + 1) / sections:
            section += 1
            heading = _fill(rng, rng.choice(HEADINGS))
            parts.append(heading)
            size += len(heading.encode())
        sentences = [_fill(rng, rng.choice(PATTERNS)) for _ in range(rng.randint(2, 4))]
        paragraph = " ".join(sentences)
        parts.append(paragraph)
        size += len(paragraph.encode()) + 2
    return f"{day.isoformat()}-bilan-{number}.txt", "\n\n".join(parts)


def bulletins(count: int, seed: int = 1230, target_bytes: int = 4000) -> list[tuple[str, str]]:
    """`count` bulletins, the same for the same seed."""
    return list(itertools.islice(stream(seed, target_bytes), count))


def stream(seed: int = 1230, target_bytes: int = 4000) -> Iterator[tuple[str, str]]:
    """Bulletins one at a time, for ever: the first `count` are `bulletins(count, seed)`
    (an archive of a million is never held in memory)."""
    rng = random.Random(seed)
    for i in itertools.count():
        yield bulletin(rng, i, target_bytes)
