"""The analyst's DynamoDB items (PynamoDB), every ``pk`` led by the tenant.

- database:  ``<t>#DB``                ``<database_id>``            source, catalog version and S3 key; never a password
- session:   ``<t>#SESSION``           ``<session_id>``             database, title, turn count
- turn:      ``<t>#SESSION#<sid>``     ``Q#<turn:05d>``             question, SQL, validation, answer, preview rows
- query ref: ``<t>#QUERY``             ``<query_id>``               where the turn lives (for /queries/{id})
- cache:     ``<t>#CACHE#<database>``  ``<schema version>#<hash>``  SQL and result of a normalised question (TTL)
"""

from __future__ import annotations

from pynamodb.attributes import ListAttribute, NumberAttribute, UnicodeAttribute

from stratus.storage import TenantModel


class DatabaseItem(TenantModel):
    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    dialect = UnicodeAttribute()
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    source = UnicodeAttribute(default="{}")
    secret_arn = UnicodeAttribute(null=True)
    schema_version = UnicodeAttribute()
    catalog_key = UnicodeAttribute()
    table_count = NumberAttribute()
    tables = ListAttribute(of=UnicodeAttribute, default=list)
    hidden_columns = ListAttribute(of=UnicodeAttribute, default=list)


class SessionItem(TenantModel):
    database_id = UnicodeAttribute()
    title = UnicodeAttribute(null=True)
    created_at = NumberAttribute()
    created_by = UnicodeAttribute()
    turns = NumberAttribute(default=0)


class TurnItem(TenantModel):
    query_id = UnicodeAttribute()
    turn = NumberAttribute()
    created_at = NumberAttribute()
    body = UnicodeAttribute()  # the turn as JSON: question, resolved question, SQL, validation, answer, preview


class QueryRefItem(TenantModel):
    session_id = UnicodeAttribute()
    turn_sk = UnicodeAttribute()


class CacheItem(TenantModel):
    body = UnicodeAttribute()
    created_at = NumberAttribute()
    expires_at = NumberAttribute()


ITEMS = (DatabaseItem, SessionItem, TurnItem, QueryRefItem, CacheItem)
