#!/bin/sh
# Writes demo traffic into the source database: every DEMO_WRITE_INTERVAL seconds one transaction
# with a new customer, an order with two lines, and an update of an older order; every tenth round
# deletes an old order. Watch it arrive in the sink:
#   docker compose exec postgres psql -U vrsky -d sink -c 'SELECT * FROM orders ORDER BY id DESC LIMIT 5'
set -eu
interval="${DEMO_WRITE_INTERVAL:-2}"
n=$(psql -tAc "SELECT coalesce(max(id), 0) FROM orders")
echo "demo-writer: writing to $PGHOST/$PGDATABASE every ${interval}s, starting after order $n"
while :; do
  n=$((n + 1))
  psql -q -v ON_ERROR_STOP=1 <<SQL
BEGIN;
INSERT INTO customers (id, name, email) VALUES ($n, 'customer $n', 'c$n@example.com') ON CONFLICT (id) DO NOTHING;
INSERT INTO orders (id, customer_id, amount, items) VALUES ($n, $n, round((random() * 500)::numeric, 2), '{"source": "demo-writer"}');
INSERT INTO order_lines VALUES ($n, 1, 'SKU-' || ($n % 17), 1 + $n % 3, 9.99), ($n, 2, 'SKU-' || ($n % 5), 2, 19.50);
UPDATE orders SET status = 'paid', updated_at = now() WHERE id = $n - 3;
COMMIT;
SQL
  if [ $((n % 10)) -eq 0 ]; then
    psql -q -c "DELETE FROM order_lines WHERE order_id = $n - 9; DELETE FROM orders WHERE id = $n - 9;"
  fi
  echo "demo-writer: order $n written"
  sleep "$interval"
done
