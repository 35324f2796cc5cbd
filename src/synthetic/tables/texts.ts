/**
 * Free-text templates for interactions, by type and topic. `{product}`, `{order}` and `{store}` are
 * replaced when the text is written; everything else is literal.
 */

export const COMPLAINT_TEXTS: Readonly<Record<string, readonly string[]>> = {
  product_quality: [
    'The {product} I bought stopped working after two weeks. Not what I expect from you.',
    'The {product} arrived with a crack in it. Really disappointed.',
    'Quality of the {product} is much worse than last time.',
    'The {product} fell apart the first time I used it.',
  ],
  delivery: [
    'My parcel for order {order} never arrived and nobody can tell me where it is.',
    'Third time the courier says nobody was home. I was home all day!',
    'Order {order} was left outside in the rain.',
    'The delivery for {order} is a week late, this is not acceptable.',
  ],
  billing: [
    'I was charged twice this month for the membership.',
    'Why was my payment taken before the date we agreed?',
    'The refund for my return still has not reached my account.',
  ],
  staff: [
    'The staff member at {store} was rude to me at the till.',
    'Waited twenty minutes at {store} and nobody came to help.',
  ],
  refund: [
    'I returned the {product} three weeks ago and I am still waiting for my money.',
    'You refused my return of the {product} even though I had the receipt.',
  ],
  wait_time: [
    'I was on hold for 45 minutes before anyone answered.',
    'Nobody replied to my email for a week.',
  ],
};

export const COMPLIMENT_TEXTS: readonly string[] = [
  'Thank you to the lovely person at {store} who helped me find the {product}.',
  'Delivery was fast and the packaging was perfect. Thanks!',
  'Your call centre sorted my problem in five minutes. Great service.',
  'Really happy with the {product}, exactly what I wanted.',
  'The staff at {store} always remember me. That is why I keep coming back.',
];

export const SERVICE_REQUEST_TEXTS: Readonly<Record<string, readonly string[]>> = {
  order_status: ['Where is my order {order}?', 'Can you tell me when order {order} will arrive?'],
  product_question: [
    'Is the {product} available in another size?',
    'Does the {product} come with a warranty?',
    'Will the {product} be back in stock soon?',
  ],
  account_access: ['I cannot log in to my account.', 'I forgot my password and the reset email never came.'],
  address_change: ['I have moved, please update my address.', 'Please send future orders to my new address.'],
  loyalty_points: ['My points from last week are missing.', 'How do I use my loyalty points online?'],
  warranty: ['The {product} is broken, is it still under warranty?'],
  store_hours: ['What time does {store} open on Sunday?'],
};

export const CHAT_TEXTS: readonly string[] = [
  'Hi, do you deliver on Saturdays?',
  'Can I change the delivery address for order {order}?',
  'Is there a discount for members on the {product}?',
  'Hello, I need help with my basket, it keeps emptying.',
  'Do you have the {product} in blue?',
];

export const CUSTOMER_EMAIL_TEXTS: readonly string[] = [
  'Hello, please send me a copy of my last invoice.',
  'I would like to know more about the membership.',
  'Could you tell me how to return the {product}?',
  'Please remove my old phone number from my account.',
];

export const CALL_NOTES: readonly string[] = [
  'Customer asked about opening hours and parking.',
  'Called to check a delivery date; reassured.',
  'Asked how to use a gift card online.',
  'General question about the membership benefits.',
  'Wanted to know if the {product} is in stock at {store}.',
];

export const CALLBACK_NOTES: readonly string[] = [
  'Called back about the complaint; apologised and agreed a goodwill gesture.',
  'Follow-up call; customer satisfied with the resolution.',
  'Left a voicemail about the open complaint.',
];

export const FEEDBACK_TEXTS: readonly string[] = [
  'The new website is much easier to use.',
  'Checkout took too many steps.',
  'Store was clean and well organised today.',
  'Prices went up a lot this year.',
  'I like that the staff remember my name.',
];

export const SUGGESTION_TEXTS: readonly string[] = [
  'You should stock refills for the {product}.',
  'Please add a quiet hour for people who find the store overwhelming.',
  'It would be great to choose a delivery time slot.',
  'Could you offer paper-free receipts by email?',
  'Please bring back the {product} in the old colour.',
  'A repair service for the {product} would be really useful.',
];

export const SURVEY_COMMENTS: readonly string[] = [
  'Quick and easy.',
  'Good value.',
  'Delivery could be faster.',
  'Friendly staff.',
  'Hard to find what I wanted.',
];

export const LIFE_EVENT_TEXTS: Readonly<Record<string, readonly string[]>> = {
  moved_house: ['We have just moved house.', 'New address from next week, we moved.'],
  married: ['We got married last month!', 'I have changed my name after our wedding.'],
  new_baby: ['Our baby was born last week.', 'We have a new baby in the family.'],
  bereavement: ['My husband passed away recently.', 'I lost my mother last month.', 'My wife passed away.'],
};

export const CANCELLATION_TEXTS: Readonly<Record<string, readonly string[]>> = {
  membership: [
    'Please cancel my membership.',
    'I would like to end my membership at the end of this month.',
    'I do not use the membership any more, please stop it.',
  ],
  order: [
    'Please cancel order {order}, I ordered the wrong one.',
    'Cancel order {order}, found it elsewhere.',
  ],
};

export const NEWSLETTER_CAMPAIGNS: readonly string[] = [
  'new_season',
  'members_evening',
  'home_week',
  'garden_days',
  'back_to_school',
  'winter_sale',
  'gift_guide',
];
