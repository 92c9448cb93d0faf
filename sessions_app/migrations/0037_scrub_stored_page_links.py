"""Messages written before page links were left out of them (review #45) held a
registrant's own page link in their text: it opens and changes their page without a
password, so it is taken out of every stored message, sent or not. An unsent one gets the
mark that is replaced by the current link when it is sent; a sent one keeps only the mark.
"""

import re

from django.db import migrations

# The mark of sessions_app.notices.texts.PAGE_LINK, as it was when this migration was written.
PAGE_LINK = "[the link to their own page, added when the message is sent]"
LINK = re.compile(r"https?://[^\s<>\"]*/attend/[0-9]+/[^/\s<>\"]+/")


def scrub(apps, schema_editor):
    Message = apps.get_model("sessions_app", "Message")
    for message in Message.objects.filter(kind__startswith="registrant.").iterator():
        body = LINK.sub(PAGE_LINK, message.body)
        context = dict(message.context or {})
        if isinstance(context.get("link"), str):
            context["link"] = LINK.sub(PAGE_LINK, context["link"])
        if body != message.body or context != (message.context or {}):
            message.body, message.context = body, context
            message.save(update_fields=["body", "context"])


class Migration(migrations.Migration):
    dependencies = [("sessions_app", "0036_one_line_names_and_subjects")]

    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
