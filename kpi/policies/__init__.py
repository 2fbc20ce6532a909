"""评分政策 pages: finance-side users list, create, copy and edit the regional scoring policies, each save
previewed first (what it changes once rescored) and confirmed."""
