from django.shortcuts import render

from .models import Step, SyncRun


def step_list(request):
    steps = Step.objects.order_by("-step_time", "-id")[:50]
    return render(request, "steps/step_list.html", {"steps": steps, "last_sync": SyncRun.objects.first()})
