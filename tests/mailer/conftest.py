"""The newsletter fixtures of tests/mailer/support.py, for this package."""

from tests.mailer import support

_remove_segment_themes = support._remove_segment_themes
archived = support.archived
news_app = support.news_app
news_client = support.news_client
news_gql = support.news_gql
news_settings = support.news_settings
outbox = support.outbox
smtp_server = support.smtp_server
