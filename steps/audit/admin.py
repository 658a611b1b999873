"""The audit trail in the admin: read-only for everyone, superusers included (no add, change or
delete permission is ever granted here; the model and a database trigger refuse them anyway)."""

from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor_name", "action", "target_type", "target_label", "ip")
    list_filter = ("action",)
    search_fields = ("actor_name", "target_id", "target_label")
    date_hierarchy = "at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    ordering = ("-at", "-id")
    actions = None  # not even "delete selected"
    show_full_result_count = False  # no COUNT(*) over the whole table on each page

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
