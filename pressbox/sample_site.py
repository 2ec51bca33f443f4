"""The demo site: feeds and article pages written by pressbox itself, in the style of sports sites.

Teams, coaches, venues and competitions are real public names; every match, score, quote and
player named here is invented for the demo. Pages carry the clutter real pages have (navigation,
cookie banner, related links, comments) so extraction has something to cut.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from pressbox.localsite import LocalSite, Route

# The first match is eight days before today (UTC midnight): the demo always has this week's news,
# and its pages stay the same all day, so a second run the same day changes nothing.
EPOCH = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=8)


@dataclass(frozen=True)
class Match:
    """One invented fixture the site reports on."""

    section: str  # feed id
    home: str
    away: str
    home_coach: str
    away_coach: str
    venue: str
    competition: str
    score: tuple[int, int]
    scorers: tuple[str, ...]  # invented players
    captain: str  # invented player


MATCHES = [
    Match("football", "Arsenal", "Chelsea", "Mikel Arteta", "Enzo Maresca", "Emirates Stadium", "Premier League", (2, 1), ("Tom Ashby", "Leo Granger", "Callum Ridd"), "Owen Falk"),
    Match("football", "Liverpool", "Everton", "Arne Slot", "David Moyes", "Anfield", "Premier League", (3, 0), ("Mateo Varga", "Niall Corbett", "Mateo Varga"), "Jonah Pryce"),
    Match("football", "Manchester City", "Tottenham Hotspur", "Pep Guardiola", "Thomas Frank", "Etihad Stadium", "Premier League", (1, 1), ("Sven Ostrand", "Dele Oyelaran"), "Rico Baines"),
    Match("football", "Newcastle United", "Aston Villa", "Eddie Howe", "Unai Emery", "St James' Park", "Premier League", (0, 2), ("Harvey Quill", "Idris Mbeki"), "Lewis Hartigan"),
    Match("football", "Brighton", "Crystal Palace", "Fabian Hurzeler", "Oliver Glasner", "Amex Stadium", "Premier League", (2, 2), ("Kai Lindqvist", "Ben Otway", "Sam Duffield", "Kai Lindqvist"), "Marcus Ede"),
    Match("football", "Atalanta", "Juventus", "Ivan Juric", "Igor Tudor", "Gewiss Stadium", "Serie A", (1, 0), ("Dario Fenzi",), "Paolo Sereni"),
    Match("football", "Inter Milan", "Napoli", "Cristian Chivu", "Antonio Conte", "San Siro", "Serie A", (2, 0), ("Marco Lenti", "Ivo Radic"), "Gianni Moro"),
    Match("football", "Real Madrid", "Barcelona", "Xabi Alonso", "Hansi Flick", "Santiago Bernabeu", "La Liga", (2, 3), ("Alvaro Cueto", "Pau Serrat", "Jan Ferrer", "Alvaro Cueto", "Pau Serrat"), "Iker Salas"),
    Match("football", "Bayern Munich", "Borussia Dortmund", "Vincent Kompany", "Niko Kovac", "Allianz Arena", "Bundesliga", (4, 1), ("Felix Brandt", "Felix Brandt", "Jonas Keller", "Timo Wend", "Lukas Hoff"), "Max Ebner"),
    Match("football", "Paris Saint-Germain", "Liverpool", "Luis Enrique", "Arne Slot", "Parc des Princes", "Champions League", (1, 2), ("Yanis Cherki", "Mateo Varga", "Niall Corbett"), "Jonah Pryce"),
    Match("football", "Celtic", "Rangers", "Brendan Rodgers", "Russell Martin", "Celtic Park", "Scottish Premiership", (2, 0), ("Aidan Kerr", "Rory Beith"), "Callum Moffat"),
    Match("football", "Aston Villa", "Atalanta", "Unai Emery", "Ivan Juric", "Villa Park", "Champions League", (1, 1), ("Idris Mbeki", "Dario Fenzi"), "Lewis Hartigan"),
    Match("rugby", "England", "Wales", "Steve Borthwick", "Warren Gatland", "Twickenham", "Six Nations", (27, 13), ("Harry Penwarden", "Jack Tolley"), "Ollie Marwood"),
    Match("rugby", "Ireland", "France", "Andy Farrell", "Fabien Galthie", "Aviva Stadium", "Six Nations", (19, 24), ("Cian Dolan", "Louis Arnaud"), "Conor Breen"),
    Match("rugby", "Scotland", "Italy", "Gregor Townsend", "Gonzalo Quesada", "Murrayfield", "Six Nations", (31, 17), ("Fraser Lindsay", "Matteo Bruni"), "Ewan Cairns"),
    Match("rugby", "New Zealand", "South Africa", "Scott Robertson", "Rassie Erasmus", "Eden Park", "Rugby Championship", (22, 25), ("Tane Whaanga", "Pieter Venter"), "Sam Rangi"),
    Match("cricket", "England", "Australia", "Brendon McCullum", "Andrew McDonald", "Lord's", "Ashes", (1, 0), ("Will Hexley", "Tom Ransome"), "Joe Marlow"),
    Match("cricket", "India", "Pakistan", "Gautam Gambhir", "Gary Kirsten", "Eden Gardens", "Champions Trophy", (1, 0), ("Rohan Iyer", "Vikram Sethi"), "Arjun Mehra"),
    Match("us", "Los Angeles Lakers", "Boston Celtics", "JJ Redick", "Joe Mazzulla", "Crypto.com Arena", "NBA", (112, 104), ("Darnell Hayes", "Trey Whitfield"), "Marcus Bell"),
    Match("us", "Kansas City Chiefs", "Buffalo Bills", "Andy Reid", "Sean McDermott", "Arrowhead Stadium", "NFL", (27, 24), ("Jalen Brooks", "DeShawn Pike"), "Tyler Ames"),
    Match("us", "Golden State Warriors", "Oklahoma City Thunder", "Steve Kerr", "Mark Daigneault", "Chase Center", "NBA", (99, 108), ("Cody Lansing", "Amari Pratt"), "Isaiah Crane"),
    Match("us", "San Francisco 49ers", "Los Angeles Rams", "Kyle Shanahan", "Sean McVay", "SoFi Stadium", "NFL", (17, 20), ("Brady Colfax", "Jordan Reese"), "Nate Olsen"),
    Match("football", "Fulham", "Brentford", "Marco Silva", "Thomas Frank", "Craven Cottage", "Premier League", (0, 0), (), "Elliot Sharpe"),
    Match("football", "Leeds United", "Sunderland", "Daniel Farke", "Regis Le Bris", "Elland Road", "Premier League", (1, 2), ("Joe Millward", "Ryan Tait", "Ryan Tait"), "Adam Kell"),
]

FEEDS = {
    "football": ("Demo Sport: Football", "football"),
    "rugby": ("Demo Sport: Rugby Union", "rugby union"),
    "cricket": ("Demo Sport: Cricket", "cricket"),
    "us": ("Demo Sport: US Sports", "us sports"),
}

VERB = {1: "edged", 2: "beat", 3: "beat", 4: "thrashed"}


def _slug(m: Match) -> str:
    return f"{m.home}-{m.away}".lower().replace(" ", "-").replace("'", "").replace(".", "")


def _when(i: int) -> datetime:
    return EPOCH + timedelta(hours=7 * i)


def article_paragraphs(m: Match) -> list[str]:
    """The body of the match report (what extraction should keep)."""
    h, a = m.score
    margin = abs(h - a)
    if h == a:
        lead = f"{m.home} and {m.away} shared the points after a {h}-{a} draw in the {m.competition} at {m.venue}."
    else:
        win, lose = (m.home, m.away) if h > a else (m.away, m.home)
        verb = VERB.get(min(margin, 4), "beat") if margin < 10 else "beat"
        lead = f"{win} {verb} {lose} {max(h, a)}-{min(h, a)} in the {m.competition} at {m.venue} on Saturday."
    paras = [lead]
    if m.scorers:
        paras.append(
            f"{m.scorers[0]} opened the scoring for {m.home if h >= a else m.away} before the break, and "
            f"{', '.join(m.scorers[1:]) or 'nobody else'} added to a lively contest in front of a full house."
        )
    paras.append(
        f"{m.home} coach {m.home_coach} said afterwards: \"We knew {m.away} would make it hard for us. "
        f"The players stuck to the plan and the supporters carried us through the difficult spells.\""
    )
    paras.append(
        f"{m.away} boss {m.away_coach} was frustrated with the result. \"We created enough chances to take "
        f"something from the game, but at this level you are punished for every mistake,\" he said."
    )
    paras.append(
        f"Captain {m.captain} praised the character of the squad. \"There is a long way to go in the "
        f"{m.competition} and we will recover quickly,\" {m.captain.split()[-1]} told reporters."
    )
    paras.append(
        f"Both sides return to training on Monday. {m.home} travel next week, while {m.away} will host "
        f"their next opponents with a fully fit squad, according to {m.away_coach}."
    )
    return paras


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>{title} | Demo Sport</title>
<link rel="canonical" href="{base_url}/{section}/{slug}">
<meta property="og:title" content="{title}">
<meta property="og:site_name" content="Demo Sport">
<meta property="og:image" content="{base_url}/img/{slug}.jpg">
<meta property="article:published_time" content="{iso}">
<meta name="author" content="Demo Sport reporter">
<script type="application/ld+json">{jsonld}</script>
</head><body>
<div class="cookie-banner">We use cookies to improve your experience. <a href="#">Accept all</a> <a href="#">Settings</a></div>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/football">Football</a></li><li><a href="/rugby">Rugby</a></li>
<li><a href="/cricket">Cricket</a></li><li><a href="/us">US Sports</a></li><li><a href="/live">Live scores</a></li></ul></nav></header>
<main><article>
<h1>{title}</h1>
<p class="byline">By Demo Sport reporter · <time datetime="{iso}">{human}</time></p>
{paragraphs}
</article>
<aside class="related"><h2>Related stories</h2><ul>{related}</ul></aside>
<section class="comments"><h2>Comments (3)</h2>
<div class="comment"><b>fan_1987</b> Worst refereeing I have seen all season, absolute joke.</div>
<div class="comment"><b>terrace_tales</b> Told you all last week this was coming. Nobody listens.</div>
<div class="comment"><b>neutral_nick</b> Great game to watch as a neutral, both teams went for it.</div>
</section></main>
<footer><p>© 2026 Demo Sport. All rights reserved. <a href="/privacy">Privacy</a> <a href="/terms">Terms</a></p></footer>
</body></html>"""


def title_of(m: Match) -> str:
    """The headline of a match report."""
    h, a = m.score
    if h == a:
        return f"{m.home} and {m.away} draw {h}-{a}"
    win, lose = (m.home, m.away) if h > a else (m.away, m.home)
    return f"{win} beat {lose} {max(h, a)}-{min(h, a)} in the {m.competition}"


def render_page(m: Match, i: int) -> str:
    """One article page (with {base_url} left for the server to fill in)."""
    when = _when(i)
    related = "".join(
        f'<li><a href="/{o.section}/{_slug(o)}">{html.escape(title_of(o))}</a></li>'
        for o in MATCHES[i + 1 : i + 4]
    )
    jsonld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": title_of(m),
                         "datePublished": when.isoformat(), "author": {"@type": "Person", "name": "Demo Sport reporter"}})
    return PAGE.format(
        title=html.escape(title_of(m)), section=m.section, slug=_slug(m), iso=when.isoformat(),
        human=when.strftime("%d %B %Y"), jsonld=jsonld, related=related, base_url="{base_url}",
        paragraphs="\n".join(f"<p>{html.escape(p)}</p>" for p in article_paragraphs(m)),
    )


def render_feed(section: str) -> str:
    """An RSS 2.0 feed of a section, newest first."""
    name, _ = FEEDS[section]
    items = []
    for i, m in sorted(enumerate(MATCHES), key=lambda im: _when(im[0]), reverse=True):
        if m.section != section:
            continue
        # feed links carry tracking parameters, as real feeds do; pressbox strips them
        link = f"{{base_url}}/{section}/{_slug(m)}?utm_source=rss&amp;utm_medium=feed"
        items.append(
            f"<item><title>{html.escape(title_of(m))}</title><link>{link}</link>"
            f"<guid isPermaLink=\"false\">demo-{section}-{_slug(m)}</guid>"
            f"<pubDate>{format_datetime(_when(i))}</pubDate>"
            f"<description>{html.escape(article_paragraphs(m)[0])}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{html.escape(name)}</title><link>{{base_url}}/{section}</link>"
        f"<description>{html.escape(name)} news</description><language>en-gb</language>"
        + "".join(items) + "</channel></rss>"
    )


def routes() -> dict[str, Route]:
    """Every path of the demo site."""
    out = {
        f"/feeds/{s}.xml": Route(render_feed(s).encode(), content_type="application/rss+xml; charset=utf-8")
        for s in FEEDS
    }
    for i, m in enumerate(MATCHES):
        out[f"/{m.section}/{_slug(m)}"] = Route(render_page(m, i).encode())
    out["/robots.txt"] = Route(b"User-agent: *\nDisallow: /private/\n", content_type="text/plain")
    return out


def feeds_toml(base_url: str) -> str:
    """A feeds file listing the demo site's feeds."""
    parts = []
    for s, (name, sport) in FEEDS.items():
        parts.append(f'[[feeds]]\nid = "demo-{s}"\nurl = "{base_url}/feeds/{s}.xml"\nname = "{name}"\n'
                     f'sport = "{sport}"\nlanguage = "en"\n')
    return "\n".join(parts)


DEMO_PORT = 8765  # fixed, so the demo's URLs (and so its article ids) are the same every run


def serve(port: int = DEMO_PORT) -> LocalSite:
    """Start the demo site on 127.0.0.1 (on a free port if `port` is taken)."""
    try:
        return LocalSite(routes(), port=port).start()
    except OSError:
        return LocalSite(routes()).start()
