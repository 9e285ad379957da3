"""What every service's staff pages share: one layout, one stylesheet, one set of words.

Coordinators, programme staff and reporting staff move between the services' pages as if they
were one product: the same header, navigation, language switch and sign-out form, the category
codes of the events (``media``, ``25-34``) shown as words in the page's language, and times in
the session's local time. A service renders its own templates with :func:`pages.console_engine`
and answers with :func:`pages.render_console`.
"""
