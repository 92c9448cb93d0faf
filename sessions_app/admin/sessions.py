from django.contrib import admin

from sessions_app import models

admin.site.register(models.Organisation)
admin.site.register(models.Event)
admin.site.register(models.Track)
admin.site.register(models.Location)
admin.site.register(models.CustomField)
admin.site.register(models.Session)
admin.site.register(models.SessionChange)
