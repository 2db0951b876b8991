// SQLite: webhooks, the event outbox and deliveries (sqlite_store_parts.h).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "store/rows.h"
#include "store/sqlite/sqlite_store_parts.h"

namespace keyward::sqlite {
namespace {

// Only string literals reach SQLite; every value is a bound parameter.
constexpr char kInsertEvent[] = KW_ROW_INSERT_EVENT("?1", "?2", "?3", "?4", "?5");
constexpr char kFanOut[] = KW_ROW_FAN_OUT("instr", "?1", "?2", "?3", "?4", "?5");
constexpr char kInsertWebhook[] =
    "INSERT INTO webhooks (" KW_ROW_WEBHOOK_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr char kListWebhooks[] =
    "SELECT " KW_ROW_WEBHOOK_COLUMNS " FROM webhooks ORDER BY created_at, id";
constexpr char kGetWebhook[] = "SELECT " KW_ROW_WEBHOOK_COLUMNS " FROM webhooks WHERE id = ?1";
constexpr char kDeleteWebhook[] = "DELETE FROM webhooks WHERE id = ?1";
constexpr char kDueDeliveries[] =
    "SELECT " KW_ROW_DELIVERY_COLUMNS
    ", w.url, w.sealed_secret FROM webhook_deliveries d"
    " JOIN webhook_events e ON e.id = d.event_id JOIN webhooks w ON w.id = d.webhook_id"
    " WHERE " KW_ROW_FIRST_DUE_OF_WEBHOOK("?1") " ORDER BY d.next_attempt_at, d.id LIMIT ?2";
constexpr char kLease[] = "UPDATE webhook_deliveries SET lease_until = ?2 WHERE id = ?1";
constexpr char kFinishDelivery[] = KW_ROW_FINISH_DELIVERY("?1", "?2", "?3", "?4", "?5", "?6");
constexpr char kListDeliveries[] = KW_ROW_LIST_DELIVERIES("?1", "?2");
constexpr char kPruneEvents[] = KW_ROW_PRUNE_EVENTS("?1");

}  // namespace

Status InsertEvents(Connection& db, const EventList& events, std::vector<std::int64_t>* ids) {
  for (const WebhookEvent& event : events) {
    std::int64_t id = 0;
    {
      KW_ASSIGN_OR_RETURN(Statement insert, db.Prepare(kInsertEvent));
      insert.BindText(1, event.type);
      insert.BindInt(2, event.time);
      insert.BindText(3, event.user_id);
      insert.BindText(4, event.data);
      insert.BindText(5, event.only_webhook);
      KW_ASSIGN_OR_RETURN(bool row, insert.Step());
      if (!row) return Status::Internal("INSERT ... RETURNING returned no row");
      id = insert.ColumnInt(0);
      KW_ASSIGN_OR_RETURN(bool more, insert.Step());
      if (more) return Status::Internal("INSERT ... RETURNING returned two rows");
    }
    if (ids != nullptr) ids->push_back(id);
    KW_ASSIGN_OR_RETURN(Statement fan_out, db.Prepare(kFanOut));
    fan_out.BindInt(1, id);
    fan_out.BindInt(2, event.time);
    fan_out.BindText(3, event.type);
    fan_out.BindText(4, event.user_id);
    fan_out.BindText(5, event.only_webhook);
    KW_RETURN_IF_ERROR(fan_out.Run());
    if (!event.only_webhook.empty() && fan_out.Changes() == 0) {
      return Status::NotFound("webhook not found");
    }
  }
  return Status::Ok();
}

Result<std::vector<std::int64_t>> AppendEvents(Connection& db, const EventList& events) {
  std::vector<std::int64_t> ids;
  if (events.empty()) return ids;
  Transaction transaction(db);
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  KW_RETURN_IF_ERROR(InsertEvents(db, events, &ids));
  KW_RETURN_IF_ERROR(transaction.Commit());
  return ids;
}

Status CreateWebhook(Connection& db, const Webhook& webhook) {
  KW_ASSIGN_OR_RETURN(WebhookListColumns lists, WriteWebhookLists(webhook));
  KW_ASSIGN_OR_RETURN(Statement insert, db.Prepare(kInsertWebhook));
  insert.BindText(1, webhook.id);
  insert.BindText(2, webhook.url);
  insert.BindText(3, lists.events);
  insert.BindText(4, lists.users);
  insert.BindBlob(5, webhook.sealed_secret);
  insert.BindText(6, webhook.created_by);
  insert.BindInt(7, webhook.created_at);
  return Reword(insert.Run(), StatusCode::kAlreadyExists, "a webhook with this id already exists");
}

Result<std::vector<Webhook>> ListWebhooks(Connection& db) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kListWebhooks));
  std::vector<Webhook> webhooks;
  while (true) {
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return webhooks;
    webhooks.push_back(ReadWebhook(StatementRow(select)));
  }
}

Result<Webhook> GetWebhook(Connection& db, std::string_view id) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kGetWebhook));
  select.BindText(1, id);
  KW_ASSIGN_OR_RETURN(bool found, select.Step());
  if (!found) return Status::NotFound("webhook not found");
  return ReadWebhook(StatementRow(select));
}

Status DeleteWebhook(Connection& db, std::string_view id) {
  KW_ASSIGN_OR_RETURN(Statement remove, db.Prepare(kDeleteWebhook));
  remove.BindText(1, id);
  KW_RETURN_IF_ERROR(remove.Run());
  return remove.Changes() == 0 ? Status::NotFound("webhook not found") : Status::Ok();
}

Result<std::vector<Delivery>> ClaimDeliveries(Connection& db, UnixSeconds now,
                                              UnixSeconds lease_until, int limit) {
  // One write transaction: the rows read are leased before any other connection can look, so
  // the one-in-flight rule (KW_ROW_FIRST_DUE_OF_WEBHOOK) sees every lease taken before.
  Transaction transaction(db);
  KW_RETURN_IF_ERROR(transaction.Begin(Transaction::Mode::kWrite));
  std::vector<Delivery> deliveries;
  {
    KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kDueDeliveries));
    select.BindInt(1, now);
    select.BindInt(2, limit);
    while (true) {
      KW_ASSIGN_OR_RETURN(bool row, select.Step());
      if (!row) break;
      StatementRow reader(select);
      KW_ASSIGN_OR_RETURN(Delivery delivery, ReadDelivery(reader));
      delivery.url = reader.Text(KW_ROW_DELIVERY_COLUMN_COUNT);
      delivery.sealed_secret = reader.Blob(KW_ROW_DELIVERY_COLUMN_COUNT + 1);
      deliveries.push_back(std::move(delivery));
    }
  }
  for (const Delivery& delivery : deliveries) {
    KW_ASSIGN_OR_RETURN(Statement lease, db.Prepare(kLease));
    lease.BindInt(1, delivery.id);
    lease.BindInt(2, lease_until);
    KW_RETURN_IF_ERROR(lease.Run());
  }
  KW_RETURN_IF_ERROR(transaction.Commit());
  return deliveries;
}

Status FinishDelivery(Connection& db, std::int64_t id, const DeliveryOutcome& outcome) {
  KW_ASSIGN_OR_RETURN(Statement update, db.Prepare(kFinishDelivery));
  update.BindInt(1, id);
  update.BindText(2, DeliveryStateName(outcome.state));
  update.BindInt(3, outcome.next_attempt_at);
  update.BindInt(4, outcome.attempted_at);
  update.BindInt(5, outcome.status);
  update.BindText(6, outcome.error);
  KW_RETURN_IF_ERROR(update.Run());
  return update.Changes() == 0 ? Status::NotFound("delivery not found") : Status::Ok();
}

Result<std::vector<Delivery>> ListDeliveries(Connection& db, std::string_view webhook_id,
                                             int limit) {
  KW_ASSIGN_OR_RETURN(Statement select, db.Prepare(kListDeliveries));
  select.BindText(1, webhook_id);
  select.BindInt(2, limit);
  std::vector<Delivery> deliveries;
  while (true) {
    KW_ASSIGN_OR_RETURN(bool row, select.Step());
    if (!row) return deliveries;
    KW_ASSIGN_OR_RETURN(Delivery delivery, ReadDelivery(StatementRow(select)));
    deliveries.push_back(std::move(delivery));
  }
}

Result<std::int64_t> PruneEvents(Connection& db, UnixSeconds before) {
  KW_ASSIGN_OR_RETURN(Statement remove, db.Prepare(kPruneEvents));
  remove.BindInt(1, before);
  KW_RETURN_IF_ERROR(remove.Run());
  return remove.Changes();
}

}  // namespace keyward::sqlite
