// PostgreSQL: webhooks, the event outbox and deliveries (postgres_store_parts.h).
#include <algorithm>
#include <cstdint>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "store/postgres/postgres_store_parts.h"
#include "store/rows.h"

namespace keyward::pg {
namespace {

// Only string literals reach PostgreSQL; every value is a parameter.
constexpr char kInsertEvent[] = KW_ROW_INSERT_EVENT("$1", "$2", "$3", "$4", "$5");
constexpr char kFanOut[] = KW_ROW_FAN_OUT("strpos", "$1", "$2", "$3", "$4", "$5");
constexpr char kInsertWebhook[] =
    "INSERT INTO webhooks (" KW_ROW_WEBHOOK_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7)";
constexpr char kListWebhooks[] =
    "SELECT " KW_ROW_WEBHOOK_COLUMNS " FROM webhooks ORDER BY created_at, id";
constexpr char kGetWebhook[] = "SELECT " KW_ROW_WEBHOOK_COLUMNS " FROM webhooks WHERE id = $1";
constexpr char kDeleteWebhook[] = "DELETE FROM webhooks WHERE id = $1";
// ClaimDeliveries, first statement: the webhooks with a due delivery and none in flight, oldest
// due first, locked (FOR NO KEY UPDATE: claims of the same webhook wait for each other, the
// fan-out's FOR KEY SHARE on the webhook row does not); a webhook another claim holds is skipped.
constexpr char kLockIdleWebhooks[] =
    "SELECT w.id FROM webhooks w WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE"
    " d.webhook_id = w.id AND " KW_ROW_DUE("d.", "$1") ") AND " KW_ROW_WEBHOOK_IDLE("w.id", "$1")
    " ORDER BY (SELECT min(d.next_attempt_at) FROM webhook_deliveries d WHERE d.webhook_id = w.id"
    " AND " KW_ROW_DUE("d.", "$1") "), w.id LIMIT $2 FOR NO KEY UPDATE OF w SKIP LOCKED";
// Then, per webhook locked: its first due delivery unless one is in flight, leased. A statement
// of its own, so its snapshot sees every claim of that webhook committed before the lock was
// taken. Rows locked elsewhere are skipped, not waited for; one claimed and committed meanwhile
// fails the re-checked condition (its lease is in the future).
constexpr char kClaim[] =
    "WITH due AS (SELECT id FROM webhook_deliveries d WHERE d.webhook_id = $3 AND "
    KW_ROW_FIRST_DUE_OF_WEBHOOK("$1") " FOR UPDATE SKIP LOCKED),"
    " d AS (UPDATE webhook_deliveries SET lease_until = $2 WHERE id IN (SELECT id FROM due)"
    " RETURNING *)"
    " SELECT " KW_ROW_DELIVERY_COLUMNS
    ", w.url, w.sealed_secret FROM d JOIN webhook_events e ON e.id = d.event_id"
    " JOIN webhooks w ON w.id = d.webhook_id";
constexpr char kFinishDelivery[] = KW_ROW_FINISH_DELIVERY("$1", "$2", "$3", "$4", "$5", "$6");
constexpr char kListDeliveries[] = KW_ROW_LIST_DELIVERIES("$1", "$2");
constexpr char kPruneEvents[] = KW_ROW_PRUNE_EVENTS("$1");

}  // namespace

Status InsertEvents(Connection& conn, const EventList& events, std::vector<std::int64_t>* ids) {
  for (const WebhookEvent& event : events) {
    Params insert;
    insert.Text(event.type).Int(event.time).Text(event.user_id).Text(event.data);
    insert.Text(event.only_webhook);
    KW_ASSIGN_OR_RETURN(Rows id, conn.Prepared(kInsertEvent, insert));
    if (id.size() != 1) return Status::Internal("INSERT ... RETURNING returned no row");
    if (ids != nullptr) ids->push_back(id.Int(0, 0));
    Params fan_out;
    fan_out.Int(id.Int(0, 0)).Int(event.time).Text(event.type).Text(event.user_id);
    fan_out.Text(event.only_webhook);
    KW_ASSIGN_OR_RETURN(Rows added, conn.Prepared(kFanOut, fan_out));
    if (!event.only_webhook.empty() && added.Affected() == 0) {
      return Status::NotFound("webhook not found");
    }
  }
  return Status::Ok();
}

Status CreateWebhook(Connection& conn, const Webhook& webhook) {
  KW_ASSIGN_OR_RETURN(WebhookListColumns lists, WriteWebhookLists(webhook));
  Params insert;
  insert.Text(webhook.id).Text(webhook.url).Text(lists.events).Text(lists.users);
  insert.Bytes(webhook.sealed_secret).Text(webhook.created_by).Int(webhook.created_at);
  return Reword(conn.Prepared(kInsertWebhook, insert).status(), StatusCode::kAlreadyExists,
                "a webhook with this id already exists");
}

Result<std::vector<Webhook>> ListWebhooks(Connection& conn) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kListWebhooks));
  std::vector<Webhook> webhooks;
  webhooks.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) webhooks.push_back(ReadWebhook(ResultRow(rows, r)));
  return webhooks;
}

Result<Webhook> GetWebhook(Connection& conn, std::string_view id) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kGetWebhook, Params().Text(id)));
  if (rows.size() == 0) return Status::NotFound("webhook not found");
  return ReadWebhook(ResultRow(rows, 0));
}

Status DeleteWebhook(Connection& conn, std::string_view id) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kDeleteWebhook, Params().Text(id)));
  return rows.Affected() == 0 ? Status::NotFound("webhook not found") : Status::Ok();
}

Result<std::vector<Delivery>> ClaimDeliveries(Connection& conn, UnixSeconds now,
                                              UnixSeconds lease_until, int limit) {
  KW_ASSIGN_OR_RETURN(Rows webhooks,
                      conn.Prepared(kLockIdleWebhooks, Params().Int(now).Int(limit)));
  std::vector<Delivery> deliveries;
  deliveries.reserve(webhooks.size());
  for (int w = 0; w < webhooks.size(); ++w) {
    Params claim;
    claim.Int(now).Int(lease_until).Text(webhooks.Bytes(w, 0));
    KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kClaim, claim));
    for (int r = 0; r < rows.size(); ++r) {
      ResultRow row(rows, r);
      KW_ASSIGN_OR_RETURN(Delivery delivery, ReadDelivery(row));
      delivery.url = row.Text(KW_ROW_DELIVERY_COLUMN_COUNT);
      delivery.sealed_secret = row.Blob(KW_ROW_DELIVERY_COLUMN_COUNT + 1);
      deliveries.push_back(std::move(delivery));
    }
  }
  std::sort(deliveries.begin(), deliveries.end(), [](const Delivery& a, const Delivery& b) {
    return std::tie(a.next_attempt_at, a.id) < std::tie(b.next_attempt_at, b.id);
  });
  return deliveries;
}

Status FinishDelivery(Connection& conn, std::int64_t id, const DeliveryOutcome& outcome) {
  Params update;
  update.Int(id).Text(DeliveryStateName(outcome.state)).Int(outcome.next_attempt_at);
  update.Int(outcome.attempted_at).Int(outcome.status).Text(outcome.error);
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kFinishDelivery, update));
  return rows.Affected() == 0 ? Status::NotFound("delivery not found") : Status::Ok();
}

Result<std::vector<Delivery>> ListDeliveries(Connection& conn, std::string_view webhook_id,
                                             int limit) {
  KW_ASSIGN_OR_RETURN(Rows rows,
                      conn.Prepared(kListDeliveries, Params().Text(webhook_id).Int(limit)));
  std::vector<Delivery> deliveries;
  deliveries.reserve(rows.size());
  for (int r = 0; r < rows.size(); ++r) {
    KW_ASSIGN_OR_RETURN(Delivery delivery, ReadDelivery(ResultRow(rows, r)));
    deliveries.push_back(std::move(delivery));
  }
  return deliveries;
}

Result<std::int64_t> PruneEvents(Connection& conn, UnixSeconds before) {
  KW_ASSIGN_OR_RETURN(Rows rows, conn.Prepared(kPruneEvents, Params().Int(before)));
  return rows.Affected();
}

}  // namespace keyward::pg
