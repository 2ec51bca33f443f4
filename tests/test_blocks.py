"""tasks/blocks.py and tasks/declared.py: each block rule and each declaration, on small written pages."""

import json

import lxml.html
from lxml import etree

from tasks.blocks import body_text, prune
from tasks.declared import html_to_text, read_declared

PROSE = "Arsenal beat Chelsea 2-0 at the Emirates on Saturday with goals from Saka and Havertz in each half."


def xml(inner: str) -> etree._Element:
    return etree.fromstring(f"<body>{inner}</body>")


def run(inner: str, **kw) -> tuple[str, dict]:
    body = xml(inner)
    fired = prune(body, **kw)
    return body_text(body), dict(fired)


def test_link_only_paragraph_is_a_teaser_but_prose_with_a_link_stays():
    text, fired = run(f'<p>{PROSE}</p><p><ref target="/x">Arteta hails his defence after derby win</ref></p>'
                      f'<p>Saka, <ref target="/saka">who signed a new deal</ref>, scored first and then set up '
                      f"Havertz for the second goal.</p>")
    assert fired == {"link_block": 1}
    assert "Arteta hails" not in text and "who signed a new deal" in text


def test_printed_url_is_content_not_a_teaser():
    text, fired = run(f'<p>{PROSE}</p><p>Tickets: <ref target="https://t.example">https://t.example</ref></p>')
    assert fired == {} and "Tickets" in text


def test_list_of_links_is_dropped_and_a_list_of_facts_is_kept():
    teasers = "".join(f'<item><ref target="/{i}">Story {i}</ref><head rend="h4">Its dek {i}</head></item>'
                      for i in range(3))
    facts = "<list><item>Saka (Group A): 10th goal</item><item>Havertz (Group A): fourth goal</item></list>"
    text, fired = run(f"<p>{PROSE}</p><list>{teasers}</list>{facts}")
    assert fired == {"teaser_list": 1}
    assert "Story 1" not in text and "Its dek" not in text and "Saka (Group A): 10th goal" in text


def test_linked_heading_takes_its_summary_and_the_orphaned_section_heading_with_it():
    more = ('<head rend="h2">More from the site</head>'
            '<p><ref target="/a"/></p>'  # an empty image link between the teasers
            '<head rend="h2">Title A <ref target="/a">Title A</ref></head><p>Summary of story A.</p>'
            '<head rend="h2">Title B <ref target="/b">Title B</ref></head><p>Summary of story B.</p>')
    text, fired = run(f"<p>{PROSE}</p>{more}")
    assert text == PROSE
    assert fired == {"linked_heading": 2, "trailing_heading": 1}


def test_leading_headline_and_echoed_standfirst_are_dropped_but_a_section_heading_stays():
    text, fired = run(f'<head rend="h1">Arsenal 2-0 Chelsea</head><head rend="h2">Gunners go top after derby win</head>'
                      f'<p>{PROSE}</p><head rend="h2">What the managers said</head><p>{PROSE}</p>',
                      title="Arsenal 2-0 Chelsea: report", description="Gunners go top after derby win at home")
    assert fired == {"headline": 2}
    assert text.startswith("Arsenal beat") and "What the managers said" in text
    # a first heading that is neither the h1 nor an echo of the title is content
    text, fired = run(f'<head rend="h2">The nominations in full:</head><p>{PROSE}</p>', title="Awards night")
    assert fired == {} and text.startswith("The nominations in full:")


def test_photo_caption_with_credit_is_dropped():
    text, fired = run(f"<p>{PROSE}</p><p>Saka celebrates his goal\nCredit: Reuters/Jane Doe</p>"
                      "<p>Credit where it is due: the defence was superb all afternoon, and Arteta said so "
                      "at length after the match in a press conference that went on for an hour.</p>")
    assert fired == {"photo_credit": 1}
    assert "Reuters/Jane Doe" not in text and "Credit where it is due" in text


def test_authors_closing_note_is_dropped_only_for_the_byline_author():
    note = "<p>Jane Smith is a football writer for The Site. Follow her on X @janesmith.</p>"
    text, fired = run(f"<p>{PROSE}</p>{note}", author="Janet Smith")
    assert fired == {"author_bio": 1} and "football writer" not in text
    text, fired = run(f"<p>{PROSE}</p>{note}", author="Tom Jones")
    assert fired == {} and "football writer" in text


def test_trailing_headings_with_nothing_under_them_go():
    text, fired = run(f'<p>{PROSE}</p><head rend="h3">Newsletter</head><head rend="h4">Sign up today</head>')
    assert text == PROSE and fired == {"trailing_heading": 2}


# -- declarations --------------------------------------------------------------------------------

def page(*scripts: object, head: str = "") -> lxml.html.HtmlElement:
    blocks = "".join(f'<script type="application/ld+json">{s if isinstance(s, str) else json.dumps(s)}</script>'
                     for s in scripts)
    return lxml.html.fromstring(f"<html><head><title>T</title>{head}{blocks}</head><body><p>x</p></body></html>")


def test_reads_articles_in_graphs_and_lists_and_skips_broken_blocks():
    graph = {"@context": "https://schema.org", "@graph": [
        {"@type": "WebPage", "articleBody": "not an article"},
        {"@type": ["NewsArticle", "Thing"], "articleBody": "<p>First para.</p><p>Second &amp; last.</p>",
         "datePublished": "2026-11-19T10:00:00", "inLanguage": "en-GB", "headline": "Big win"}]}
    d = read_declared(page("{broken", graph))
    assert d.article_body == "First para.\nSecond & last."
    assert d.published.isoformat() == "2026-11-19T10:00:00+00:00"  # naive is taken as UTC
    assert d.language == "en" and d.headline == "Big win" and "NewsArticle" in d.types


def test_live_blog_updates_and_meta_fallbacks():
    blog = {"@type": "LiveBlogPosting", "liveBlogUpdate": {"@type": "BlogPosting", "headline": "GOAL",
                                                          "articleBody": "Saka scores."}}
    d = read_declared(page(blog, head='<meta property="og:locale" content="de_DE">'
                                      '<meta property="article:published_time" content="2026-11-19T10:00:00Z">'))
    assert d.is_liveblog and d.live_updates == (("GOAL", "Saka scores."),)
    assert d.article_body is None  # a post's body is not the blog's
    assert d.language == "de" and d.published.year == 2026 and d.headline == "T"
    assert read_declared(page(head='<meta property="og:type" content="liveblog">')).is_liveblog


def test_any_declared_paywall_wins():
    d = read_declared(page({"@type": "NewsArticle", "isAccessibleForFree": "True",
                            "hasPart": [{"@type": "WebPageElement", "isAccessibleForFree": False}]}))
    assert d.accessible_for_free is False
    assert read_declared(page({"@type": "NewsArticle"})).accessible_for_free is None


def test_html_to_text_keeps_plain_text_as_is():
    assert html_to_text("  Plain text, no markup. ") == "Plain text, no markup."
    assert html_to_text("Line one<br>Line two") == "Line one\nLine two"
