-- CreateIndex
CREATE UNIQUE INDEX "Watch_customerId_sku_kind_key" ON "Watch"("customerId", "sku", "kind");
