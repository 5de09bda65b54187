package geo

import "slices"

// Collection ids.
const (
	WaterloggingPoints = "waterlogging_points"
	RelocationSites    = "relocation_sites"
	Depots             = "depots"
	Gauges             = "gauges" // see gauge.go
)

// Rectification results as the report states them.
var rectificationResults = []string{"完成", "基本完成", "长期坚持", "未完成"}

// commonProperties are declared by every collection: the name, where the
// coordinates came from and how far off they may be, and what the
// inspection found.
func commonProperties() []Property {
	return []Property{
		{Name: "name", Type: String, Required: true, Title: "名称", Description: "Name in Chinese, as the report gives it."},
		{Name: "name_en", Type: String, Nullable: true, Title: "英文名", Description: "English name or transliteration."},
		{Name: "township", Type: String, Nullable: true, Filterable: true, Title: "乡镇/街道", Description: "Township or subdistrict."},
		{Name: "location_precision_m", Type: Number, Nullable: true, Title: "定位精度(米)", Description: "How far the coordinates may be from the real place, in metres; null when there is no location."},
		{Name: "location_source", Type: String, Required: true, Title: "定位来源", Description: "Where the coordinates came from, or why there are none."},
		{Name: "findings", Type: ObjectList, Title: "检查发现", Description: "What the inspection found here, the measure taken and the rectification result.",
			Fields: []Property{
				{Name: "finding", Type: String, Required: true, Title: "问题"},
				{Name: "measure", Type: String, Nullable: true, Title: "整改措施"},
				{Name: "result", Type: String, Nullable: true, Enum: rectificationResults, Title: "整改结果"},
				{Name: "ref", Type: String, Nullable: true, Title: "报告章节"},
			}},
		{Name: "note", Type: String, Nullable: true, Title: "备注", Description: "Anything else worth knowing."},
	}
}

// Schemas returns the schemas of every collection, in display order. Each
// call returns fresh values that the caller may keep.
func Schemas() []*Schema {
	return []*Schema{
		{
			ID:            WaterloggingPoints,
			TitleZH:       "城区积水点",
			TitleEN:       "Waterlogging points",
			Description:   "The 19 main urban waterlogging points of the report: 5 railway underpasses and 14 road spots, 11 of which the report does not name (kept with a null geometry).",
			GeometryTypes: []string{"Point", "LineString"},
			Properties: append(commonProperties(),
				Property{Name: "kind", Type: String, Required: true, Filterable: true, Enum: []string{"railway_underpass", "road_spot"}, Title: "类型", Description: "railway_underpass (铁路桥涵) or road_spot (道路积水点)."},
				Property{Name: "duty_unit", Type: String, Nullable: true, Filterable: true, Title: "责任单位", Description: "The unit on duty for this point in flood season."},
				Property{Name: "duty_contact_name", Type: String, Nullable: true, ReadRole: RoleCrew, Title: "值守联系人",
					Description: "The person to call about this point in flood season (personal data: crews and above only)."},
				Property{Name: "duty_contact_phone", Type: String, Nullable: true, ReadRole: RoleCrew, Format: FormatPhone, Title: "值守联系电话",
					Description: "The duty contact's telephone number, a Chinese mobile or landline number (personal data: crews and above only)."},
				Property{Name: "equipment", Type: ObjectList, Title: "预置装备", Description: "Equipment pre-positioned here in flood season (pumps, signs, barriers, vehicles), with counts; [] when none is reported.",
					Fields: equipmentFields()},
				Property{Name: "measures", Type: StringList, Title: "应对措施", Description: "What crews do here during rain."},
				Property{Name: "status", Type: String, Nullable: true, Filterable: true, Enum: []string{"clear", "ponding", "closed"}, Title: "状态", Description: "Latest reported state; null when nothing has been reported."},
				Property{Name: "depth_cm", Type: Number, Nullable: true, Title: "积水深度(厘米)", Description: "Latest reported water depth in centimetres."},
				Property{Name: "status_updated_at", Type: DateTime, Nullable: true, Title: "状态更新时间", Description: "When status and depth were last reported."},
			),
		},
		{
			ID:            RelocationSites,
			TitleZH:       "河道内待搬迁群众",
			TitleEN:       "Riverbed relocation sites",
			Description:   "Settlements in riverbeds and flood channels whose households are still to be relocated. The public sees counts; household detail (households) is personal data, for planners only.",
			GeometryTypes: []string{"Point", "Polygon", "MultiPolygon"},
			Properties: append(commonProperties(),
				Property{Name: "town", Type: String, Required: true, Filterable: true, Title: "乡镇"},
				Property{Name: "village", Type: String, Required: true, Title: "村"},
				Property{Name: "households_total", Type: Integer, Nullable: true, Title: "总户数"},
				Property{Name: "households_relocated", Type: Integer, Nullable: true, Title: "已搬迁户数"},
				Property{Name: "households_remaining", Type: Integer, Nullable: true, Title: "未搬迁户数"},
				Property{Name: "resettlement_site", Type: String, Nullable: true, Title: "安置点"},
				Property{Name: "status", Type: String, Required: true, Filterable: true, Enum: []string{"not_started", "in_progress", "completed"}, Title: "搬迁进度"},
				Property{Name: "households", Type: ObjectList, ReadRole: RolePlanner, Title: "住户明细",
					Description: "Household-level detail, for planners only (personal data). The report publishes none, and the seed data holds none.",
					Fields: []Property{
						{Name: "name", Type: String, Required: true, Title: "户主姓名"},
						{Name: "phone", Type: String, Nullable: true, Title: "联系电话"},
						{Name: "members", Type: Integer, Nullable: true, Title: "人口"},
						{Name: "note", Type: String, Nullable: true, Title: "备注"},
					}},
			),
		},
		{
			ID:            Depots,
			TitleZH:       "应急物资储备库",
			TitleEN:       "Emergency-supply depots",
			Description:   "City, township, village and facility stores of emergency supplies, with what the inspection found about their readiness.",
			GeometryTypes: []string{"Point"},
			Properties: append(commonProperties(),
				Property{Name: "level", Type: String, Required: true, Filterable: true, Enum: []string{"city", "township", "village", "facility"}, Title: "级别"},
				Property{Name: "kind", Type: String, Nullable: true, Enum: []string{"store", "equipment"}, Title: "类型",
					Description: "store: the report names a store here (仓库, 储备库/站/点 holding supplies); equipment: the report names only equipment kept here (extinguishers, torches, a team's kit), not a store, so whether supplies can be drawn here is unknown; null: not stated."},
				Property{Name: "operator", Type: String, Nullable: true, Title: "管理单位"},
				Property{Name: "keeper_name", Type: String, Nullable: true, ReadRole: RoleCrew, Title: "保管人",
					Description: "The person who holds the keys (personal data: crews and above only)."},
				Property{Name: "keeper_phone", Type: String, Nullable: true, ReadRole: RoleCrew, Format: FormatPhone, Title: "保管人电话",
					Description: "The keeper's telephone number, a Chinese mobile or landline number (personal data: crews and above only)."},
				Property{Name: "floor", Type: Integer, Nullable: true, Filterable: true, Title: "所在楼层", Description: "Storey, 1 = ground floor."},
				Property{Name: "has_lift", Type: Boolean, Nullable: true, Title: "有电梯"},
				Property{Name: "entrance_ok", Type: Boolean, Nullable: true, Filterable: true, Title: "出入口便于取用物资",
					Description: "false: the entrance hinders taking supplies out and people going in and out (the report's 出入口狭窄，物资取用、人员出入不便); null: not known. It says nothing about the width a truck needs."},
				Property{Name: "manual_door", Type: Boolean, Nullable: true, Filterable: true, Title: "停电可手动开门", Description: "false: the door cannot be opened by hand in a power cut."},
				Property{Name: "backup_power", Type: Boolean, Nullable: true, Title: "备用电源"},
				Property{Name: "damp", Type: Boolean, Nullable: true, Filterable: true, Title: "潮湿"},
				Property{Name: "stock_matches_books", Type: Boolean, Nullable: true, Title: "账实相符"},
				Property{Name: "far_from_office", Type: Boolean, Nullable: true, Title: "距乡镇驻地过远"},
				Property{Name: "categories", Type: StringList, Filterable: true, Enum: []string{"flood", "fire", "relief", "other"}, Title: "物资类别", Description: "flood (防汛), fire (消防), relief (救灾), other."},
				Property{Name: "item_kinds", Type: Integer, Nullable: true, Title: "物资品种数"},
				Property{Name: "inventory", Type: ObjectList, Title: "库存", Description: "Counted stock.",
					Fields: []Property{
						{Name: "item", Type: String, Required: true, Title: "物资"},
						{Name: "quantity", Type: Number, Nullable: true, Title: "数量"},
						{Name: "unit", Type: String, Nullable: true, Title: "单位"},
						{Name: "note", Type: String, Nullable: true, Title: "备注"},
					}},
				Property{Name: "team_size", Type: Integer, Nullable: true, Title: "服务队伍人数"},
				Property{Name: "rectified", Type: Boolean, Nullable: true, Title: "已整改"},
			),
		},
		gaugeSchema(),
	}
}

// equipmentFields are the members of each pre-positioned item of a
// waterlogging point.
func equipmentFields() []Property {
	return []Property{
		{Name: "item", Type: String, Required: true, Title: "装备", Description: "What it is, e.g. 排水泵, 警示标识, 反光锥, 警戒线, 车辆."},
		{Name: "quantity", Type: Number, Nullable: true, Title: "数量"},
		{Name: "unit", Type: String, Nullable: true, Title: "单位"},
		{Name: "note", Type: String, Nullable: true, Title: "备注"},
	}
}

// SchemaFor returns the schema of collection c, or a NotFound error.
func SchemaFor(c string) (*Schema, error) {
	i := slices.IndexFunc(Schemas(), func(s *Schema) bool { return s.ID == c })
	if i < 0 {
		return nil, Errorf(NotFound, "no collection %q", c)
	}
	return Schemas()[i], nil
}
