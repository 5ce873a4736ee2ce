from django.urls import path

from . import views

app_name = "counties"

urlpatterns = [
    path("", views.home, name="home"),
]
