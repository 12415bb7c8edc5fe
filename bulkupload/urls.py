from django.urls import path

from bulkupload import views

app_name = "bulkupload"

urlpatterns = [
    path("", views.upload_list, name="list"),
]
