from django.contrib.sitemaps import Sitemap
from django.db.models import F, QuerySet
from django.urls import reverse

from counties.models import Batch, ProgrammeLevel, Province, Unit


class UnitSitemap(Sitemap):
    """One page per place: units in their current form (an old code redirects there)."""

    changefreq = "monthly"
    limit = 5000

    def items(self) -> QuerySet[Unit]:
        return Unit.objects.filter(current=F("pk")).order_by("key")

    def location(self, item: Unit) -> str:
        return reverse("counties:county", args=[item.key])

    def lastmod(self, item: Unit):
        return item.updated_at


class ProvinceSitemap(Sitemap):
    changefreq = "monthly"

    def items(self) -> QuerySet[Province]:
        return Province.objects.order_by("code")

    def location(self, item: Province) -> str:
        return reverse("counties:province", args=[item.code])


class BatchSitemap(Sitemap):
    changefreq = "monthly"

    def items(self) -> list[int]:
        return list(Batch.objects.filter(level=ProgrammeLevel.NATIONAL).order_by("year").values_list("year", flat=True).distinct())

    def location(self, item: int) -> str:
        return reverse("counties:batch", args=[item])


class PageSitemap(Sitemap):
    changefreq = "weekly"
    priority = 0.8

    def items(self) -> list[str]:
        return [
            "counties:home",
            "counties:county-list",
            "counties:province-list",
            "counties:batch-list",
            "counties:statistics",
            "counties:data-package",
        ]

    def location(self, item: str) -> str:
        return reverse(item)


SITEMAPS = {"pages": PageSitemap, "counties": UnitSitemap, "provinces": ProvinceSitemap, "batches": BatchSitemap}
