"""Routes of learning. Question URLs live under the content API, so the routing middleware
activates their channel (keyword `channel_id`)."""

from __future__ import annotations

from django.urls import path

from learning import api, views

urlpatterns = [
    path("api/content/<str:channel_id>/contentnode/<str:node_id>/questions/",
         api.QuestionsView.as_view(), name="learning-questions"),
    path("api/content/<str:channel_id>/contentnode/<str:node_id>/questions/image/<str:name>/",
         api.QuestionImageView.as_view(), name="learning-question-image"),
    path("api/attempts/", api.AttemptListView.as_view(), name="learning-attempts"),
    path("api/progress/", api.ProgressView.as_view(), name="learning-progress"),
    path("api/certificates/", api.CertificateListView.as_view(), name="learning-certificates"),
    path("api/certificates/<str:certificate_id>/", api.CertificateDetailView.as_view(),
         name="learning-certificate"),
    path("api/certificates/<str:certificate_id>/pdf/", api.CertificatePdfView.as_view(),
         name="learning-certificate-pdf"),
    path("certificates/verify/<str:code>/", views.verify_certificate,
         name="learning-certificate-verify"),
]
